// Transport hardening in a real browser: Debian's headless Chromium driven by playwright-core
// against a `catalog serve` started by tests/tests/integration/transport.rs, which also
// serves a page of "another site" on another port. Checks, as a visitor's browser would see
// them:
// - a page of another origin cannot open the catalog's GraphQL WebSocket, so it can run no
//   query over it (cross-site WebSocket hijacking);
// - a DNS name that resolves to the catalog but is not its name gets nothing (DNS
//   rebinding; Chromium's --host-resolver-rules plays the rebound DNS);
// - the dashboard, from the catalog's own origin, still subscribes and hears a change;
// - GraphiQL renders and runs a query under its Content-Security-Policy, and its docs
//   explorer lists Query's fields (it loads the schema by introspection).
//
// Run it through `cargo test -p catalog-tests --test integration transport::`.

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const seed = JSON.parse(readFileSync(process.env.SEED, 'utf8'));
const catalog = new URL(seed.catalog);
const T = 15_000;
const REBOUND = 'rebind.test';

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`,
  ],
});

let failed = false;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed = true;
    console.log(`FAIL ${name}\n${e.stack || e}`);
  }
}

async function newPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  return page;
}

// What a hostile page would do: open the socket, initialise, run a query and a
// subscription over it. Resolves with everything it saw.
function useSocket(page, wsUrl) {
  return page.evaluate((wsUrl) => new Promise((resolve) => {
    const seen = { opened: false, messages: [], close: null };
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
    ws.onopen = () => {
      seen.opened = true;
      ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      seen.messages.push(msg);
      if (msg.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: '{ components(first: 5) { edges { node { name } } } }' } }));
      }
      if (msg.id === 'q') { ws.close(); resolve(seen); }
    };
    ws.onclose = (e) => { seen.close = e.code; resolve(seen); };
    setTimeout(() => resolve(seen), 10_000);
  }), wsUrl);
}

function postDeployment(workload) {
  return fetch(new URL('/hooks/deployments', catalog), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${seed.ingestToken}` },
    body: JSON.stringify({
      cluster: 'prod-eu-1', namespace: 'payments', workload, environment: 'prod',
      status: 'healthy', source: 'api', images: ['registry.example.com/shop/cart:1.0.0'],
    }),
  }).then((r) => assert.equal(r.status, 202));
}

try {
  await check('a page of another origin cannot open the socket nor run a query over it', async () => {
    const page = await newPage();
    await page.goto(seed.evil);
    const seen = await useSocket(page, `ws://${catalog.host}/graphql`);
    assert.deepEqual(seen.messages, [], `the other site got answers: ${JSON.stringify(seen.messages)}`);
    assert.equal(seen.opened, false, 'the handshake was refused');
    assert.equal(seen.close, 1006);
  });

  await check('a rebound DNS name gets neither the dashboard nor the socket', async () => {
    const page = await newPage();
    const rebound = `${REBOUND}:${catalog.port}`;
    const res = await page.goto(`http://${rebound}/`);
    assert.equal(res.status(), 403);
    assert.match(await page.content(), /--public-url/);
    const seen = await useSocket(page, `ws://${rebound}/graphql`);
    assert.deepEqual(seen.messages, []);
    assert.equal(seen.opened, false);
  });

  await check('the dashboard (the catalog\'s own origin) subscribes and hears a change; queries stay on POST', async () => {
    const page = await newPage();
    await page.goto(new URL('/', catalog).href);
    await page.locator('#live.on').waitFor({ timeout: T });
    // The subscription listens once the server has polled it: post until one shows.
    const shown = page.locator('.feed li', { hasText: 'prod-eu-1/payments/live-' }).first();
    const t = Date.now();
    for (let n = 0; Date.now() - t < T; n++) {
      await postDeployment(`live-${n}`);
      if (await shown.waitFor({ timeout: 1000 }).then(() => true, () => false)) break;
    }
    assert.equal(await shown.isVisible(), true, `no change in the feed: ${await page.locator('.feed').innerText()}`);
    const seen = await useSocket(page, `ws://${catalog.host}/graphql`);
    assert.equal(seen.opened, true);
    const q = seen.messages.find((m) => m.id === 'q');
    assert.equal(q?.type, 'error', `a query ran over the socket: ${JSON.stringify(seen.messages)}`);
    assert.match(q.payload[0].message, /POST \/graphql/);
    assert.deepEqual(page.errors, []);
  });

  await check('GraphiQL renders and runs a query under its Content-Security-Policy', async () => {
    const page = await newPage();
    const violations = [];
    await page.exposeFunction('reportViolation', (v) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const res = await page.goto(new URL('/graphql', catalog).href);
    assert.match(res.headers()['content-security-policy'], /frame-ancestors 'none'/);
    await page.locator('.graphiql-execute-button').click({ timeout: T });
    await page.locator('.result-window', { hasText: '"components"' }).waitFor({ timeout: T });
    // The docs explorer is built from the introspection query GraphiQL sends on load.
    await page.getByRole('button', { name: /documentation explorer/i }).first().click({ timeout: T });
    await page.locator('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name', { hasText: /^Query$/ }).first().click({ timeout: T });
    const fields = page.locator('.graphiql-doc-explorer .graphiql-doc-explorer-field-name');
    await fields.filter({ hasText: /^components$/ }).first().waitFor({ timeout: T });
    const names = await fields.allTextContents();
    for (const f of ['components', 'package', 'blastRadius', 'events']) assert.ok(names.includes(f), `docs explorer lists ${names}`);
    assert.deepEqual(violations, []);
    assert.deepEqual(page.errors, []);
  });
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
