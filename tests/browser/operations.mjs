// Every GraphQL operation the README documents and the dashboard sends, checked against a
// real `catalog serve` (started and seeded by tests/tests/integration/operations.rs):
// - found: README.md's ```graphql blocks (each operation of a block on its own) and any
//   `"query": "..."` in its shell examples; ui/js's graphql-tagged literals (an operation
//   written any other way in ui/js is itself a failure, so none escapes the check);
// - validated with graphql-js against the served schema (introspection), 0 errors;
// - executed against the seeded data, with an admin token, with variables from a table by
//   variable name: no `errors`. Subscriptions run over graphql-ws until their first event.
// A failure names the file and line of the operation and its first line.
//
// Run it through `cargo test -p catalog-tests --test integration operations::`.

import {
  buildClientSchema, getIntrospectionQuery, parse, validate, Kind, print,
} from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const seed = JSON.parse(readFileSync(process.env.SEED, 'utf8'));
const url = new URL('/graphql', seed.catalog).href;
const root = seed.root;
const T = 15_000;

async function post(query, variables) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${seed.adminToken}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(T),
  });
  return r.json();
}

const lineOf = (text, index) => text.slice(0, index).split('\n').length;

// --- finding the operations -------------------------------------------------------------

/** { where: "file:line", source, line } for each piece of GraphQL text found. */
function fromReadme() {
  const file = 'README.md';
  const text = readFileSync(join(root, file), 'utf8');
  const out = [];
  // Fences may be indented (a block inside a list item).
  const fence = /^[ \t]*```(\w*)[^\n]*\n([\s\S]*?)^[ \t]*```/gm;
  for (const m of text.matchAll(fence)) {
    const body = m[2];
    const bodyLine = lineOf(text, m.index) + 1;
    if (m[1] === 'graphql') {
      out.push({ file, line: bodyLine, source: body });
    } else if (['sh', 'bash', 'shell', 'console', ''].includes(m[1])) {
      // curl examples: a JSON body with "query": "...".
      for (const q of body.matchAll(/"query"\s*:\s*("(?:[^"\\]|\\.)*")/g)) {
        out.push({ file, line: bodyLine + lineOf(body, q.index) - 1, source: JSON.parse(q[1]) });
      }
    }
  }
  return out;
}

function jsFiles(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? jsFiles(p) : p.endsWith('.js') ? [p] : [];
  });
}

const problems = [];

function fromDashboard() {
  const out = [];
  for (const path of jsFiles(join(root, 'ui/js'))) {
    const file = relative(root, path);
    const text = readFileSync(path, 'utf8');
    const tagged = new Set();
    // The tag, not a word ending in it (`/graphql` in a URL template).
    for (const m of text.matchAll(/(?<![\w$/.])graphql`([^`]*)`/g)) {
      const start = m.index + 'graphql`'.length;
      tagged.add(start);
      if (m[1].includes('${')) problems.push(`${file}:${lineOf(text, m.index)}: an interpolation in an operation (use variables)`);
      out.push({ file, line: lineOf(text, start), source: m[1] });
    }
    // Anything that looks like an operation but is not tagged would escape this check.
    for (const m of text.matchAll(/[`'"]\s*(?:query|mutation|subscription)(?:\s+\w+)?\s*[({]|[`'"]\s*\{\s*[a-z]\w*\s*[({]/g)) {
      const start = m.index + 1;
      if (!tagged.has(start)) problems.push(`${file}:${lineOf(text, m.index)}: a GraphQL operation not written as a graphql-tagged literal: ${text.slice(m.index, m.index + 60).split('\n')[0]}`);
    }
    for (const m of text.matchAll(/\b(?:gql|subscribe)\(\s*[`'"]/g)) {
      problems.push(`${file}:${lineOf(text, m.index)}: an inline operation (name a graphql-tagged constant instead)`);
    }
  }
  return out;
}

// --- variables --------------------------------------------------------------------------

const app = { application: seed.application, number: 1 };
/** Values by variable name; an operation whose variable is missing here fails, naming it. */
const VALUES = {
  name: seed.component,
  version: seed.version,
  digest: seed.digest,
  purl: seed.log4j,
  id: seed.vuln,
  text: 'cart',
  first: 20,
  prefix: 'shop/',
  after: null,
  of: { purl: seed.log4j },
  maxDepth: null,
  environment: null,
  cluster: seed.cluster,
  namespace: null,
  at: null,
  from: app,
  to: app,
};
/** Where a name means something else in one operation. */
const BY_OPERATION = {
  Team: { name: seed.team },
  App: { name: seed.application },
  Bom: { of: app },
  BomPackages: { of: app },
  BomComponents: { of: app },
  Diff: { from: app, to: app },
  Inventory: { cluster: seed.cluster },
  Notifications: { state: 'PARKED', before: null },
};
const INVENTORY_DIFF = { from: { environment: 'staging' }, to: { environment: 'prod' } };

function variablesFor(op, where) {
  const vars = {};
  const name = op.name?.value;
  const own = BY_OPERATION[name] || {};
  for (const d of op.variableDefinitions || []) {
    const v = d.variable.name.value;
    const type = print(d.type);
    let value;
    if (type.startsWith('ScopeInput')) value = INVENTORY_DIFF[v];
    else if (v in own) value = own[v];
    else if (v in VALUES) value = VALUES[v];
    else throw new Error(`${where}: no value for $${v}: ${type} (add it to VALUES in operations.mjs)`);
    if (value !== null) vars[v] = value;
  }
  return vars;
}

// --- checking ---------------------------------------------------------------------------

const introspection = await post(getIntrospectionQuery(), {});
if (introspection.errors) throw new Error(`introspection: ${JSON.stringify(introspection.errors)}`);
const schema = buildClientSchema(introspection.data);

const pieces = [...fromReadme(), ...fromDashboard()];
const ops = [];
for (const p of pieces) {
  let doc;
  try {
    doc = parse(p.source);
  } catch (e) {
    const l = e.locations?.[0]?.line ?? 1;
    problems.push(`${p.file}:${p.line + l - 1}: ${e.message}`);
    continue;
  }
  const fragments = doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  for (const op of doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)) {
    const line = p.line + op.loc.startToken.line - 1;
    const label = op.name?.value || p.source.split('\n')[op.loc.startToken.line - 1].trim().slice(0, 70);
    const where = `${p.file}:${line} (${label})`;
    const one = { kind: Kind.DOCUMENT, definitions: [op, ...fragments] };
    const errors = validate(schema, one);
    if (errors.length) {
      problems.push(`${where}: does not validate:\n    ${errors.map((e) => e.message).join('\n    ')}`);
      continue;
    }
    ops.push({ where, op, text: print(one) });
  }
}

// The README's placeholders stand for this catalog's things.
const concrete = (text) => Object.entries(seed.substitutions).reduce((t, [a, b]) => t.split(a).join(b), text);

const ws = createClient({
  url: url.replace(/^http/, 'ws'),
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${seed.adminToken}` },
  retryAttempts: 0,
});

async function subscription(text, variables, where) {
  let stop;
  const first = new Promise((resolve, reject) => {
    stop = ws.subscribe({ query: text, variables }, {
      next: (v) => resolve(v),
      error: (e) => reject(new Error(`${where}: ${JSON.stringify(e)}`)),
      complete: () => reject(new Error(`${where}: completed without an event`)),
    });
  });
  // Something for it to hear: a deployment in prod, posted once the subscription is up.
  await new Promise((r) => setTimeout(r, 500));
  const r = await fetch(new URL('/hooks/deployments', seed.catalog), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${seed.ingestToken}` },
    body: JSON.stringify({ deployments: [{
      environment: 'prod', cluster: seed.cluster, namespace: 'operations-test', workload: `probe-${n}`,
      status: 'healthy', replicas: 1, source: 'api', at: new Date().toISOString(),
      images: [{ container: 'probe', image: seed.reference }],
    }] }),
  }).catch((e) => e);
  if (!r.ok) throw new Error(`${where}: posting a deployment: ${r.status ?? r}`);
  const v = await Promise.race([first, new Promise((_, reject) => setTimeout(() => reject(new Error(`${where}: no event in ${T} ms`)), T))]);
  stop();
  return v;
}

let n = 0;
let executed = 0;
for (const { where, op, text } of ops) {
  n += 1;
  let vars;
  try {
    vars = variablesFor(op, where);
  } catch (e) {
    problems.push(e.message);
    continue;
  }
  const run = where.startsWith('README.md') ? concrete(text) : text;
  let body;
  try {
    body = op.operation === 'subscription' ? await subscription(run, vars, where) : await post(run, vars);
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
    continue;
  }
  executed += 1;
  if (body.errors?.length) {
    problems.push(`${where}: answered errors: ${JSON.stringify(body.errors)}\n    variables: ${JSON.stringify(vars)}`);
  } else if (!body.data) {
    problems.push(`${where}: answered no data: ${JSON.stringify(body)}`);
  }
}
await ws.dispose();

const readme = ops.filter((o) => o.where.startsWith('README.md')).length;
console.log(`${n} operations (${readme} from README.md, ${n - readme} from ui/js), ${executed} executed`);
if (problems.length) {
  console.error(`${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exit(1);
}
if (readme < 20 || n - readme < 25) {
  console.error(`too few operations found (${readme} in README.md, ${n - readme} in ui/js): is the extraction broken?`);
  process.exit(1);
}
console.log('every operation validates and answers without errors');
