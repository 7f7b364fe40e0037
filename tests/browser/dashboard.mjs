// The dashboard in a real browser: Debian's headless Chromium driven by playwright-core,
// against real `catalog serve` processes that tests/tests/integration/ui.rs seeded through
// the catalog's own hooks (registry pushes, SBOM, OSV, Backstage and deployment hooks).
// It reads the facts it asserts from $SEED, saves a screenshot of every view into
// $SCREENSHOT_DIR, and prints a table of the UI timings it measured.
//
// Run it through `cargo test -p catalog-tests --test integration ui::` (or the README's
// test command), not by hand: the seed file is written by that test.

import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const seed = JSON.parse(readFileSync(process.env.SEED, 'utf8'));
const shots = process.env.SCREENSHOT_DIR || 'screenshots';
mkdirSync(shots, { recursive: true });
const base = new URL(seed.url);
const perfBase = new URL(seed.perfUrl);
const T = 15_000; // patience for anything that waits on the catalog

const results = [];
function check(name, fn) {
  return fn().then(() => { results.push(['ok', name]); console.log(`ok   ${name}`); },
    (e) => { results.push(['FAIL', name]); console.log(`FAIL ${name}\n${e.stack || e}`); throw e; });
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

// Every request the pages make, wherever it goes: the UI may only talk to the catalog.
const foreign = [];
const pageErrors = [];
async function newPage(opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', ...opts });
  const page = await context.newPage();
  const allowed = [base.host, perfBase.host];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol === 'data:' || u.protocol === 'blob:') return;
    if (!allowed.includes(u.host)) foreign.push(r.url());
  });
  page.on('websocket', (ws) => {
    if (!allowed.includes(new URL(ws.url()).host)) foreign.push(ws.url());
  });
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`${page.url()}: console: ${m.text()}`); });
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
const url = (path) => new URL(path, base).href;

function run(argv, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => (err ? reject(new Error(`${argv.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

let failed = false;
const page = await newPage();
try {
  await check('the dashboard loads at / with the live connection up', async () => {
    await page.goto(url('/'));
    await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: T });
    await page.locator('#live.on').waitFor({ timeout: T });
    assert.match(await page.getByRole('link', { name: 'shop/cart' }).first().getAttribute('href'), /\/components\/shop\/cart$/);
    // The feed opens with the log's latest changes, in words.
    await page.locator('.feed li', { hasText: `${seed.pastCluster}/payments/cart` }).first().waitFor({ timeout: T });
    await shot(page, 'overview');
  });

  await check('search "log4j" (focused with /) lists the package; opening it shows the affected deployments and the owner to page', async () => {
    await page.locator('body').press('/');
    const box = page.getByRole('combobox', { name: /Search/ });
    assert.equal(await box.evaluate((el) => el === document.activeElement), true, '/ focuses the search box');
    await box.fill('log4j');
    const option = page.getByRole('option', { name: /log4j-core/ });
    await option.first().waitFor({ timeout: T });
    assert.equal(await page.locator('#search-results .group-label', { hasText: 'Packages' }).count(), 1, 'results are grouped by kind');
    await option.first().click();
    await page.waitForURL(/\/blast\?purl=pkg%3Amaven/, { timeout: T });
    await page.locator('#owners-h').waitFor({ timeout: T });
    const totals = page.getByRole('list', { name: 'Totals' });
    const deployments = Number((await totals.locator('li', { hasText: 'live deployments' }).locator('.n').textContent()).replace(/,/g, ''));
    assert.ok(deployments >= seed.affectedDeployments.length, `totals show ${deployments} live deployments, want >= ${seed.affectedDeployments.length}`);
    const owners = page.locator('.page-owners');
    await owners.getByRole('link', { name: seed.team }).waitFor({ timeout: T });
    await owners.getByRole('link', { name: seed.email }).waitFor();
    assert.ok((await owners.textContent()).includes(seed.pager), 'the pager is shown');
    const table = page.locator('section', { has: page.getByRole('heading', { name: /^Deployments/ }) });
    await table.locator('table').waitFor({ timeout: T });
    const text = await table.textContent();
    for (const d of seed.affectedDeployments) {
      const [cluster, , workload] = d.split('/');
      assert.ok(text.includes(cluster) && text.includes(workload), `deployment ${d} is listed`);
    }
  });

  await check('the map explains why: hovering a deployment shows its path from the package', async () => {
    const node = page.locator('.map [data-id^="deployment:"]').first();
    await node.waitFor({ timeout: T });
    // The map hit-tests pointer positions itself (one listener on its viewport), so move the
    // mouse over the node rather than asking Playwright for a hit on the node element.
    // A tall window, so the screenshot holds totals, owners and the map with a path lit.
    await page.setViewportSize({ width: 1440, height: 1400 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator('.map-viewport').scrollIntoViewIfNeeded();
    await node.hover({ force: true });
    const panel = page.locator('.path-panel');
    await panel.locator('li').first().waitFor({ timeout: T });
    const steps = await panel.locator('li .kind').allTextContents();
    assert.equal(steps[0], 'package');
    assert.equal(steps.at(-1), 'deployment');
    assert.ok(steps.includes('image'), `path ${steps.join(' > ')}`);
    await shot(page, 'blast-radius');
    // A click pins the path and stays on the page; a double click opens the node's view.
    const here = page.url();
    const box = await node.boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForTimeout(300);
    assert.equal(page.url(), here, 'a click does not navigate');
    assert.equal((await panel.locator('li .kind').allTextContents()).at(-1), 'deployment', 'the clicked path stays');
    await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForURL((u) => u.pathname === '/inventory', { timeout: T });
    await page.goBack();
    await page.waitForURL(here, { timeout: T });
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  await check('a pasted purl goes straight to its blast radius', async () => {
    const box = page.getByRole('combobox', { name: /Search/ });
    await box.fill(seed.log4j);
    await box.press('Enter');
    await page.waitForURL((u) => u.pathname === '/blast' && u.searchParams.get('purl') === seed.log4j, { timeout: T });
    await page.getByRole('list', { name: 'Totals' }).waitFor({ timeout: T });
    // A package with a vers: range: only the vulnerable version's image is reached.
    const pkg = seed.log4j.slice(0, seed.log4j.lastIndexOf('@'));
    const range = 'vers:maven/>=2.0.0|<2.15.0';
    await box.fill(`${pkg} ${range}`);
    await box.press('Enter');
    await page.waitForURL((u) => u.searchParams.get('purl') === pkg && u.searchParams.get('vers') === range, { timeout: T });
    const images = page.getByRole('list', { name: 'Totals' }).locator('li', { hasText: /^\d+images$/ }).locator('.n');
    await images.waitFor({ timeout: T });
    assert.equal(await images.textContent(), String(seed.blast.totals.images), 'images in the range');
    assert.equal(await page.getByLabel('Only versions in this vers: range').inputValue(), range);
  });

  await check('a component: versions with digest, tags, revision linked to its source, where each runs, the owner', async () => {
    const box = page.getByRole('combobox', { name: /Search/ });
    await box.fill(seed.component);
    await page.getByRole('option', { name: new RegExp(`^${seed.component}`) }).first().click();
    await page.waitForURL(/\/components\/shop\/cart/, { timeout: T });
    await page.getByRole('heading', { name: seed.component, exact: true }).waitFor({ timeout: T });
    const versions = page.locator('table.versions');
    for (const v of seed.versions) {
      const row = versions.locator('tr', { has: page.getByRole('link', { name: v.version, exact: true }) });
      await row.waitFor({ timeout: T });
      assert.ok((await row.textContent()).includes(v.digest.slice(0, 19)), `digest of ${v.version}`);
      const rev = await row.locator(`a[href*="${v.revision}"]`).getAttribute('href');
      assert.ok(rev.startsWith(v.source), `revision of ${v.version} links to ${v.source}: ${rev}`);
    }
    const owner = page.locator('.owner-card');
    assert.ok((await owner.textContent()).includes(seed.email), 'owner card has the email');
    const runs = await page.locator('table.runs').textContent();
    assert.ok(runs.includes(seed.pastCluster), `runs in ${seed.pastCluster}`);
    await page.getByLabel('Version to inspect').selectOption(seed.pastVersion);
    await page.waitForURL((u) => u.searchParams.get('version') === seed.pastVersion, { timeout: T });
    // Wait for the chosen version's own answer (the page before it also lists log4j-core).
    const chosen = page.locator('section', { has: page.locator('#pk-h') });
    await chosen.getByRole('link', { name: seed.vulnId }).waitFor({ timeout: T });
    const text = await chosen.textContent();
    assert.ok(text.includes(seed.vuln), `the alias ${seed.vuln} of ${seed.vulnId} is shown`);
    assert.ok(text.includes('2.14.1'), `the packages of ${seed.pastVersion} are listed`);
    await shot(page, 'component');
  });

  await check('a canary shows each version with its share of the traffic', async () => {
    const c = seed.canary;
    await page.goto(url(`/inventory?cluster=${encodeURIComponent(c.cluster)}`));
    const row = page.locator('.tree table.workloads tr', { hasText: 'cart' }).first();
    await row.waitFor({ timeout: T });
    const items = await row.locator('li').allTextContents();
    const of = (v) => items.find((t) => t.includes(`${seed.component} ${v}`)) || '';
    assert.ok(of(c.canary).includes(`canary ${c.share}%`), `the canary ${c.canary} at ${c.share}%: ${items}`);
    assert.ok(of(c.stable).includes(`stable ${100 - c.share}%`), `the stable ${c.stable} at ${100 - c.share}%: ${items}`);
    await shot(page, 'inventory-canary');
  });

  await check('inventory at a past moment shows what ran then; "now" shows what runs now; back returns', async () => {
    await page.goto(url(`/inventory?cluster=${encodeURIComponent(seed.pastCluster)}`));
    const tree = page.locator('.tree');
    await tree.locator('table.workloads').first().waitFor({ timeout: T });
    assert.ok((await tree.textContent()).includes(`${seed.component} ${seed.nowVersion}`), 'now: the new version');
    const local = await page.evaluate((iso) => {
      const d = new Date(iso); const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }, seed.past);
    await page.getByLabel(/As it was at/).fill(local);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/at=/, { timeout: T });
    await page.locator('#inv-moment', { hasText: 'As it was at' }).waitFor({ timeout: T });
    await tree.locator('table.workloads').first().waitFor({ timeout: T });
    const then = await tree.textContent();
    assert.ok(then.includes(`${seed.component} ${seed.pastVersion}`), `then: ${seed.pastVersion}`);
    assert.ok(!then.includes(`${seed.component} ${seed.nowVersion}`), `then: not yet ${seed.nowVersion}`);
    await shot(page, 'inventory');
    await page.goBack();
    await page.waitForURL((u) => !u.searchParams.has('at'), { timeout: T });
    await page.locator('#inv-moment', { hasText: 'Now' }).waitFor({ timeout: T });
    await page.goForward();
    await page.locator('#inv-moment', { hasText: 'As it was at' }).waitFor({ timeout: T });
  });

  await check('the difference between two environments', async () => {
    await page.goto(url('/inventory'));
    await page.getByRole('combobox', { name: 'Compare environment', exact: true }).selectOption('staging');
    await page.getByRole('combobox', { name: 'with', exact: true }).selectOption('prod');
    await page.getByRole('button', { name: 'Compare' }).click();
    const diff = page.locator('table.env-diff');
    await diff.waitFor({ timeout: T });
    const row = diff.locator('tr', { hasText: seed.component });
    assert.ok((await row.textContent()).includes('versions differ'), 'cart differs between the environments');
    // Configuration: exactly the keys the seed made differ, each with both values (as text).
    const cfg = page.locator('table.config-diff');
    await cfg.waitFor({ timeout: T });
    const rows = await cfg.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(rows, seed.configDiff, 'the configuration differences');
    assert.equal(await cfg.locator('script, img').count(), 0, 'a value is text, never markup');
    await shot(page, 'inventory-diff');
  });

  await check('notifications: endpoints with their counts, the rules, a delivered and a parked row, the state filter, markup as text', async () => {
    const n = seed.notifications;
    const dialogs = [];
    const onDialog = (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); };
    page.on('dialog', onDialog);
    try {
      await page.goto(url('/'));
      await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Notifications' }).click();
      await page.waitForURL((u) => u.pathname === '/notifications', { timeout: T });
      await page.getByRole('heading', { name: 'Notifications', exact: true }).waitFor({ timeout: T });
      const cells = (table) => table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
      // Endpoints: each configured one, with the outbox's counts as the catalog gave them.
      const endpoints = page.locator('table.notify-endpoints');
      await endpoints.waitFor({ timeout: T });
      assert.deepEqual(await cells(endpoints),
        n.endpoints.map((e) => [e.name, e.kind, String(e.pending), String(e.delivered), String(e.parked)]), 'the endpoints and their counts');
      assert.equal(await endpoints.locator('.tag.parked').count(), n.endpoints.filter((e) => e.parked > 0).length, 'parked counts stand out');
      // The default route: any team, any environment, to both endpoints.
      const rules = await cells(page.locator('table.notify-rules'));
      assert.equal(rules.length, 1, `one rule: ${JSON.stringify(rules)}`);
      const [team, env, triggers, to] = rules[0];
      assert.deepEqual([team, env], ['any team', 'any']);
      for (const t of ['failure', 'violation', 'drift', 'vulnerability']) assert.ok(triggers.includes(t), `trigger ${t}: ${triggers}`);
      assert.ok(to.includes('ops') && to.includes('chat'), `endpoints: ${to}`);
      // The outbox, newest first: the delivered row and the parked one with its error.
      const outbox = page.locator('table.outbox');
      await outbox.waitFor({ timeout: T });
      const head = await outbox.locator('thead th').allTextContents();
      const byId = async () => Object.fromEntries((await cells(outbox)).map((r) => [r[0], Object.fromEntries(head.map((k, i) => [k, r[i]]))]));
      const rows = await byId();
      const ids = Object.keys(rows).map(Number);
      assert.deepEqual(await outbox.locator('tbody tr td:first-child').allTextContents(), [...ids].sort((a, b) => b - a).map(String), 'newest first');
      const delivered = rows[n.delivered.id];
      assert.ok(delivered, `row ${n.delivered.id} is listed`);
      assert.equal(delivered.State, 'delivered');
      assert.equal(delivered.Endpoint, n.delivered.endpoint);
      assert.match(delivered.Trigger, /^failure · trigger/);
      assert.equal(delivered['Last error'], '—');
      assert.notEqual(delivered.Delivered, '—', 'the delivery time is shown');
      const parked = rows[n.parked.id];
      assert.ok(parked, `row ${n.parked.id} is listed`);
      assert.equal(parked.State, 'parked');
      assert.equal(parked.Endpoint, n.parked.endpoint);
      assert.equal(parked.Attempts, String(n.parked.attempts));
      assert.equal(parked['Last error'], n.parked.lastError);
      const parkedRow = outbox.locator('tbody tr', { has: page.locator('td:first-child', { hasText: new RegExp(`^${n.parked.id}$`) }) });
      assert.match(await parkedRow.getAttribute('class'), /\bparked\b/, 'a parked row stands out');
      assert.equal(await parkedRow.locator('.tag.parked').textContent(), 'parked');
      // The title and summary hold markup: shown as the characters they are, no element made.
      for (const id of [n.delivered.id, n.parked.id]) {
        const row = outbox.locator('tbody tr', { has: page.locator('td:first-child', { hasText: new RegExp(`^${id}$`) }) });
        assert.equal(await row.locator('.title').textContent(), n.title, `row ${id}: the title as text`);
        assert.equal(await row.locator('.why').textContent(), n.summary, `row ${id}: the summary as text`);
      }
      assert.ok(n.title.includes(n.markup));
      assert.equal(await page.locator('main img, main script, main [onerror]').count(), 0, 'markup made no element');
      await shot(page, 'notifications');
      // The state filter, kept in the URL: only parked rows.
      await page.getByRole('navigation', { name: 'Outbox state' }).getByRole('link', { name: 'Parked' }).click();
      await page.waitForURL((u) => u.searchParams.get('state') === 'parked', { timeout: T });
      await page.getByRole('navigation', { name: 'Outbox state' }).locator('strong', { hasText: 'Parked' }).waitFor({ timeout: T });
      await outbox.waitFor({ timeout: T });
      const only = async () => {
        const got = await byId();
        assert.deepEqual(Object.values(got).map((r) => r.State).filter((s) => s !== 'parked'), [], 'only parked rows');
        assert.deepEqual(Object.keys(got).map(Number).sort((a, b) => a - b), [...n.parkedIds].sort((a, b) => a - b), 'every parked row');
        assert.equal(await outbox.locator('tbody tr:not(.parked)').count(), 0, 'every row marked parked');
      };
      await only();
      await shot(page, 'notifications-parked');
      // A deep link keeps the filter; "older" pages by id below `before`.
      await page.goto(url(`/notifications?state=parked&before=${n.parked.id}`));
      await page.getByRole('heading', { name: 'Notifications', exact: true }).waitFor({ timeout: T });
      await page.getByRole('link', { name: 'Newest' }).waitFor({ timeout: T });
      const below = n.parkedIds.filter((id) => id < n.parked.id);
      if (below.length) {
        await outbox.waitFor({ timeout: T });
        assert.deepEqual(Object.keys(await byId()).map(Number).sort((a, b) => a - b), [...below].sort((a, b) => a - b), 'older parked rows only');
      } else {
        assert.equal(await outbox.count(), 0, 'no older parked row');
      }
      await page.getByRole('link', { name: 'Newest' }).click();
      await page.waitForURL((u) => u.searchParams.get('state') === 'parked' && !u.searchParams.has('before'), { timeout: T });
      await outbox.locator('tbody tr').first().waitFor({ timeout: T });
      await only();
      assert.deepEqual(dialogs, [], 'no script ran from the data');
    } finally {
      page.off('dialog', onDialog);
    }
  });

  await check('an application: versions, the BOM of one, the diff of two', async () => {
    await page.goto(url(`/applications/${encodeURIComponent(seed.application)}`));
    await page.getByRole('heading', { name: /Bill of materials of version/ }).waitFor({ timeout: T });
    await page.locator('table.bom-components').waitFor({ timeout: T });
    const bom = await page.locator('table.bom-components').textContent();
    assert.ok(bom.includes(seed.component), 'the BOM lists cart');
    await page.getByRole('heading', { name: /What changed from/ }).waitFor();
    await shot(page, 'application');
  });

  await check('live: a push to the registry appears on the component page without a reload', async () => {
    await page.goto(url(`/components/${seed.component}`));
    await page.locator('table.versions').waitFor({ timeout: T });
    await page.locator('#live.on').waitFor({ timeout: T });
    await page.evaluate(() => { window.__noReload = true; });
    await run(seed.live.push, seed.live.env);
    await page.locator('table.versions').getByRole('link', { name: seed.live.version, exact: true }).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
    await shot(page, 'live-push');
  });

  await check('live: a deployment appears in the inventory without a reload', async () => {
    const d = { ...seed.live.deploy, ...seed.live.deploy.body };
    await page.goto(url(`/inventory?cluster=${encodeURIComponent(d.cluster)}`));
    await page.locator('table.workloads').first().waitFor({ timeout: T });
    await page.locator('#live.on').waitFor({ timeout: T });
    await page.evaluate(() => { window.__noReload = true; });
    const res = await fetch(url(d.path), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${seed.ingestToken}` }, body: JSON.stringify(seed.live.deploy.body) });
    assert.equal(res.status, 202, await res.text());
    await page.locator('table.workloads', { hasText: d.workload }).first().waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
  });

  await check('dark mode: the theme button switches to dark colours, and text keeps its contrast', async () => {
    await page.goto(url(`/blast?purl=${encodeURIComponent(seed.log4j)}`));
    await page.getByRole('list', { name: 'Totals' }).waitFor({ timeout: T });
    for (const theme of ['light', 'dark']) {
      for (let i = 0; i < 3 && (await page.evaluate(() => document.documentElement.dataset.theme)) !== theme; i++) {
        await page.getByRole('button', { name: /^Colour theme/ }).click();
      }
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme, `the theme button reaches ${theme}`);
      const ratios = await page.evaluate(() => {
        const rgb = (s) => s.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
        const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
        const ratio = (a, b) => { const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
        const bg = getComputedStyle(document.body).backgroundColor;
        const out = {};
        for (const sel of ['h1', '.muted', 'a', '.totals .l', 'th']) {
          const el = document.querySelector(sel);
          if (!el) continue;
          let b = bg;
          for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; if (!/rgba\(0, 0, 0, 0\)|transparent/.test(c)) { b = c; break; } }
          out[sel] = ratio(getComputedStyle(el).color, b);
        }
        return { bg, out };
      });
      for (const [sel, r] of Object.entries(ratios.out)) assert.ok(r >= 4.5, `${theme}: ${sel} contrast ${r.toFixed(2)} < 4.5`);
      if (theme === 'dark') assert.ok(ratios.bg.startsWith('rgb(15, 20, 25'), `dark background, got ${ratios.bg}`);
    }
    await shot(page, 'blast-radius-dark');
  });

  await check('every view (team, image, vulnerability, search, lists too) loads without error, names its controls and has one h1', async () => {
    const views = [
      ['overview', '/'],
      ['component', `/components/${seed.component}`],
      ['inventory-now', '/inventory'],
      ['application', `/applications/${seed.application}`],
      ['blast-radius', `/blast?purl=${encodeURIComponent(seed.log4j)}`],
      ['team', `/teams/${seed.team}`],
      ['image', `/images/${seed.versions[0].digest}`],
      ['vulnerability', `/vulnerabilities/${seed.vuln}`],
      ['search', '/search?q=shop'],
      ['teams', '/teams'],
      ['applications', '/applications'],
      ['notifications', '/notifications'],
    ];
    // A deep link with a broken %-escape says so instead of leaving a blank page.
    await page.goto(url('/components/%E0%A4%A'));
    await page.getByRole('heading', { name: 'Not found' }).waitFor({ timeout: T });
    assert.match(await page.locator('main .error').textContent(), /broken %-escape/);
    for (const [name, path] of views) {
      await page.goto(url(path));
      await page.locator('main h1').first().waitFor({ timeout: T });
      await page.waitForLoadState('networkidle');
      const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, select, button, textarea')]
        .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim() || el.getAttribute('aria-labelledby')))
        .map((el) => el.outerHTML.slice(0, 80)));
      assert.deepEqual(unnamed, [], `${path}: controls without a name`);
      assert.equal(await page.locator('main h1').count(), 1, `${path}: one h1`);
      const errors = await page.locator('main .error').allTextContents();
      assert.deepEqual(errors, [], `${path} shows an error`);
      if (!['overview', 'component', 'application', 'blast-radius', 'notifications'].includes(name)) await shot(page, name);
    }
  });
} catch (e) {
  failed = true;
}

// The UI performance check: a 2,000-node blast radius on the second catalog.
const perf = {};
if (!failed) {
  try {
    await check(`a ${seed.perf.components + seed.perf.owners + 1}-node blast radius: totals paint under 300 ms after the response, the map pans and zooms without jank`, async () => {
      const p = await newPage();
      await p.goto(new URL(`/blast?component=${encodeURIComponent(seed.perf.component)}`, perfBase).href);
      await p.waitForFunction(() => performance.getEntriesByName('blast:response-to-totals').length > 0, null, { timeout: 30_000 });
      perf.responseToTotals = await p.evaluate(() => performance.getEntriesByName('blast:response-to-totals')[0].duration);
      // The browser's own paint time of the totals (Element Timing), when it reports one.
      perf.elementTiming = await p.evaluate(() => new Promise((resolve) => {
        const response = performance.getEntriesByName('blast:response')[0].startTime;
        new PerformanceObserver((l) => {
          const e = l.getEntries().find((x) => x.identifier === 'blast-totals');
          if (e && e.renderTime) resolve(e.renderTime - response);
        }).observe({ type: 'element', buffered: true });
        setTimeout(() => resolve(null), 2000);
      }));
      if (perf.elementTiming !== null) assert.ok(perf.elementTiming < 300, `totals painted ${perf.elementTiming.toFixed(1)} ms after the response (Element Timing)`);
      // The same view reached inside the app (component page -> its blast radius link), where
      // the document is already painted and only the view changes.
      await p.goto(new URL(`/components/${seed.perf.component}`, perfBase).href);
      await p.getByRole('link', { name: 'Blast radius of this component' }).click();
      await p.waitForFunction(() => performance.getEntriesByName('blast:response-to-totals').length > 0, null, { timeout: 30_000 });
      perf.inApp = await p.evaluate(() => performance.getEntriesByName('blast:response-to-totals').at(-1).duration);
      assert.ok(perf.inApp < 300, `in-app: totals ${perf.inApp.toFixed(1)} ms after the response`);
      const totals = await p.getByRole('list', { name: 'Totals' }).locator('li', { hasText: /^[\d,]+components$/ }).locator('.n').textContent();
      assert.equal(Number(totals.replace(/,/g, '')), seed.perf.components, 'totals count every component');
      assert.ok(perf.responseToTotals < 300, `first paint of totals ${perf.responseToTotals.toFixed(1)} ms after the response`);
      await p.waitForFunction(() => window.__blastMap, null, { timeout: 60_000 });
      const collapsed = await p.evaluate(() => window.__blastMap.stats());
      perf.collapsed = collapsed;
      assert.ok(collapsed.nodes >= seed.perf.components, `the map holds every node (${collapsed.nodes})`);
      await p.getByRole('button', { name: 'Expand all' }).click();
      // Labels of a big map are written over a few frames after the first paint.
      await p.waitForFunction(() => window.__blastMap.stats().completeMs >= 0, null, { timeout: 20_000 });
      perf.expanded = await p.evaluate(() => window.__blastMap.stats());
      assert.ok(perf.expanded.drawnNodes >= seed.perf.components, `expanded, every node is drawn (${perf.expanded.drawnNodes})`);
      // Pan and zoom for a while, recording every frame and any long task.
      await p.evaluate(() => {
        window.__frames = [];
        window.__long = [];
        new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });
        let last = performance.now();
        const tick = (t) => { window.__frames.push(t - last); last = t; if (!window.__stopFrames) requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
      });
      await p.locator('.map-viewport').scrollIntoViewIfNeeded();
      const viewOf = () => p.evaluate(() => getComputedStyle(document.querySelector('.map-world, .map-svg')).transform);
      const before = await viewOf();
      const vp = await p.locator('.map-viewport').boundingBox();
      const cx = vp.x + vp.width / 2;
      const cy = vp.y + vp.height / 2;
      await p.mouse.move(cx, cy);
      await p.mouse.down();
      for (let i = 0; i < 60; i++) await p.mouse.move(cx + Math.sin(i / 6) * 200, cy + Math.cos(i / 6) * 120, { steps: 1 });
      await p.mouse.up();
      for (let i = 0; i < 30; i++) { await p.mouse.wheel(0, i < 15 ? -120 : 120); await p.waitForTimeout(16); }
      const frames = await p.evaluate(() => { window.__stopFrames = true; return { frames: window.__frames.slice(2), long: window.__long }; });
      const sorted = frames.frames.slice().sort((a, b) => a - b);
      perf.frames = sorted.length;
      perf.p50 = sorted[Math.floor(sorted.length * 0.5)];
      perf.p95 = sorted[Math.floor(sorted.length * 0.95)];
      perf.maxLong = Math.max(0, ...frames.long);
      perf.longTasks = frames.long.length;
      assert.notEqual(await viewOf(), before, 'dragging and wheeling moved the map');
      await p.screenshot({ path: join(shots, 'blast-radius-2000.png') });
      assert.ok(perf.p95 < 50, `frame interval p95 ${perf.p95.toFixed(1)} ms during pan/zoom`);
      assert.ok(perf.maxLong < 100, `longest task during pan/zoom ${perf.maxLong.toFixed(0)} ms`);
      await p.context().close();
    });
  } catch (e) {
    failed = true;
  }
}

// Long lists on the second catalog (2,000 components, thousands of events): a page at a
// time, "Show more" by cursor, and the home feed's newest 30 events.
if (!failed) {
  try {
    await check('a long list shows a page and "Show more" appends the next one by its cursor; the feed shows the newest 30 events', async () => {
      const p = await newPage();
      const ask = async (query) => (await (await fetch(new URL('/graphql', perfBase), {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }),
      })).json()).data;
      const want = await ask('{ components(first: 200) { totalCount nodes { name } } }');
      await p.goto(new URL('/components', perfBase).href);
      await p.locator('main table tbody tr').first().waitFor({ timeout: T });
      assert.equal(await p.locator('main h1').textContent(), `Components (${want.components.totalCount.toLocaleString('en')})`);
      const names = () => p.locator('main table tbody tr td:first-child').allTextContents();
      assert.deepEqual(await names(), want.components.nodes.slice(0, 100).map((c) => c.name), 'the first page, in order');
      await p.getByRole('button', { name: /^Show more/ }).click();
      await p.waitForFunction(() => document.querySelectorAll('main table tbody tr').length > 100, null, { timeout: T });
      assert.deepEqual(await names(), want.components.nodes.map((c) => c.name), 'the second page follows the first, each once');
      const newest = await ask('{ events(last: 30) { nodes { summary } } }');
      await p.goto(new URL('/', perfBase).href);
      await p.locator('.feed li').nth(29).waitFor({ timeout: T });
      const feed = await p.locator('.feed li').allTextContents();
      assert.equal(feed.length, 30, 'thirty entries');
      const summaries = newest.events.nodes.map((e) => e.summary).reverse();
      feed.forEach((text, i) => assert.ok(text.endsWith(summaries[i]), `entry ${i}: ${text} is not ${summaries[i]}`));
      await p.context().close();
    });
  } catch (e) {
    failed = true;
  }
}

await check('the UI made no request to any host but the catalog, and no script error', async () => {
  assert.deepEqual(foreign, [], 'requests to other hosts');
  assert.deepEqual(pageErrors, [], 'page errors');
}).catch(() => { failed = true; });

await browser.close();

if (perf.expanded) {
  console.log('\nUI timings (headless Chromium, this machine):');
  console.log('| measurement | value |');
  console.log('|---|---:|');
  console.log(`| deep link: response -> totals painted (Element Timing, the browser's paint time) | ${perf.elementTiming === null ? 'not reported' : `${perf.elementTiming.toFixed(1)} ms`} |`);
  console.log(`| deep link: response -> the task after the totals' frame (script clock) | ${perf.responseToTotals.toFixed(1)} ms |`);
  console.log(`| the same, reached by a link inside the app | ${perf.inApp.toFixed(1)} ms |`);
  console.log(`| map, folded: nodes / drawn / layout / render | ${perf.collapsed.nodes} / ${perf.collapsed.drawnNodes} / ${perf.collapsed.layoutMs.toFixed(1)} ms / ${perf.collapsed.renderMs.toFixed(1)} ms |`);
  console.log(`| map, expanded: drawn / edges / layout / render / every label written | ${perf.expanded.drawnNodes} / ${perf.expanded.edges} / ${perf.expanded.layoutMs.toFixed(1)} ms / ${perf.expanded.renderMs.toFixed(1)} ms / ${perf.expanded.completeMs.toFixed(0)} ms |`);
  console.log(`| pan + zoom: frames / p50 / p95 frame interval | ${perf.frames} / ${perf.p50.toFixed(1)} ms / ${perf.p95.toFixed(1)} ms |`);
  console.log(`| pan + zoom: long tasks / longest | ${perf.longTasks} / ${perf.maxLong.toFixed(0)} ms |`);
}
console.log(`\n${results.filter((r) => r[0] === 'ok').length} passed, ${results.filter((r) => r[0] !== 'ok').length} failed; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
