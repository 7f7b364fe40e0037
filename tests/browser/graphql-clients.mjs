// The reference GraphQL clients, unmodified, against a `catalog serve` started by
// tests/tests/integration/graphql_clients.rs (no browser: plain node):
// - graphql-js's full `getIntrospectionQuery()` (what GraphiQL, codegen, Apollo and Postman
//   send) returns the schema, and it prints as the committed schema/catalog.graphql;
// - graphql-http's GraphQL-over-HTTP audit suite: no error and no warning;
// - the graphql-ws reference client hears `catalogChanged` after a hook POST.
//
// Run it through `cargo test -p catalog-tests --test integration graphql_clients::`.

import {
  buildClientSchema, buildSchema, getIntrospectionQuery, printSchema,
} from 'graphql';
import { serverAudits } from 'graphql-http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const seed = JSON.parse(readFileSync(process.env.SEED, 'utf8'));
const url = new URL('/graphql', seed.catalog).href;
const T = 15_000;

const within = (ms, what, p) => Promise.race([
  p,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)),
]);

// 1. Introspection, all options on, printed both ways equal to the committed SDL.
{
  const query = getIntrospectionQuery({
    descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
    schemaDescription: true, inputValueDeprecation: true, oneOf: true,
  });
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query }),
  });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  // async-graphql answers `__schema { description }` with __Schema's own description (a
  // constant of the library, not the catalog's): the SDL has no schema description.
  assert.match(body.data.__schema.description ?? '', /^(A GraphQL Schema defines|$)/);
  delete body.data.__schema.description;
  const served = printSchema(buildClientSchema(body.data));
  const committed = printSchema(buildSchema(readFileSync(seed.sdl, 'utf8')));
  assert.ok(served === committed, `introspection differs from schema/catalog.graphql:\n${diff(committed, served)}`);
  assert.equal(printSchema(buildSchema(served)), committed);
  console.log(`introspection: ${body.data.__schema.types.length} types, equal to the committed SDL`);
}

// Introspection is not a way around the bounds: a deep query (introspection's fan-out
// `fields { type { fields ... } }` too) and an alias flood are refused before they run,
// with 400 and no data in the spec's media type, 200 in application/json.
{
  const nest = (fields, n, leaf) => `${fields.map((f) => `${f} { `).join('').repeat(n)}${leaf}${' }'.repeat(fields.length * n)}`;
  const refused = [
    ['deep', `{ teams { edges { node { ${nest(['components', 'nodes', 'owner'], 4, 'name')} } } } }`, 'QUERY_TOO_DEEP'],
    ['deep introspection', `{ __schema { types { ${nest(['fields', 'type'], 6, 'name')} } } }`, 'QUERY_TOO_DEEP'],
    ['alias flood', `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: components(first: 500) { nodes { name } }`).join(' ')} }`, 'QUERY_TOO_COMPLEX'],
  ];
  for (const [what, query, code] of refused) {
    for (const [accept, status] of [['application/graphql-response+json', 400], ['application/json', 200]]) {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: JSON.stringify({ query }),
      });
      const body = await r.json();
      assert.equal(r.status, status, `${what} (${accept}): ${JSON.stringify(body)}`);
      assert.ok(r.headers.get('content-type').startsWith(accept), `${what}: ${r.headers.get('content-type')}`);
      assert.ok(!('data' in body), `${what}: ${JSON.stringify(body)}`);
      assert.equal(body.errors[0].extensions.code, code, `${what}: ${JSON.stringify(body)}`);
    }
    console.log(`refused: ${what}`);
  }
}

// 2. graphql-http's audits: print every result; errors and warnings fail.
{
  const results = [];
  for (const audit of serverAudits({ url, fetchFn: fetch })) results.push(await audit.fn());
  const bad = [];
  for (const r of results) {
    const line = `${r.status.padEnd(7)} ${r.id} ${r.name}`;
    console.log(line);
    if (r.status === 'error' || r.status === 'warn') {
      bad.push(`${line}: ${r.reason}${r.response ? ` (${r.response.status})` : ''}`);
    }
  }
  const count = (s) => results.filter((r) => r.status === s).length;
  console.log(`audits: ${count('ok')} ok, ${count('warn')} warnings, ${count('notice')} notices, ${count('error')} errors`);
  assert.deepEqual(bad, [], `audits not passed:\n${bad.join('\n')}`);
}

// 3. graphql-ws: a subscription hears the change a hook makes.
{
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    const sub = client.iterate({ query: 'subscription { catalogChanged { seq kind } }' });
    // The subscription is live once the server acknowledged it; a hook posted before that
    // would be missed, so post a few until one is heard.
    const heard = (async () => {
      for await (const ev of sub) return ev;
      throw new Error('the subscription ended without an event');
    })();
    let ev;
    for (let i = 0; !ev && i < 20; i++) {
      await postDeployment(`cart-${i}`);
      ev = await Promise.race([heard, new Promise((ok) => setTimeout(() => ok(undefined), 500))]);
    }
    ev ??= await within(T, 'catalogChanged', heard);
    assert.equal(ev.errors, undefined, JSON.stringify(ev.errors));
    assert.equal(typeof ev.data.catalogChanged.seq, 'number', JSON.stringify(ev));
    console.log(`graphql-ws: heard ${JSON.stringify(ev.data.catalogChanged)}`);
    await sub.return?.();
  } finally {
    await client.dispose();
  }
}

function postDeployment(workload) {
  return fetch(new URL('/hooks/deployments', seed.catalog), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${seed.ingestToken}` },
    body: JSON.stringify({
      cluster: 'prod-eu-1', namespace: 'payments', workload, environment: 'prod',
      status: 'healthy', source: 'api', images: ['registry.example.com/shop/cart:1.0.0'],
    }),
  }).then((r) => assert.equal(r.status, 202));
}

// The lines that differ, as `- committed` / `+ served`, with their line numbers.
function diff(a, b) {
  const [x, y] = [a.split('\n'), b.split('\n')];
  const out = [];
  for (let i = 0; i < Math.max(x.length, y.length) && out.length < 40; i++) {
    if (x[i] !== y[i]) out.push(`${i + 1}: - ${x[i]}`, `${i + 1}: + ${y[i]}`);
  }
  return out.join('\n');
}
