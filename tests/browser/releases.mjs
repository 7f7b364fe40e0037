// Releases in the dashboard, in Debian's headless Chromium driven by playwright-core, against
// the catalog tests/tests/integration/governance.rs seeded: a policy set in force with a
// refused newer one, a calendar with a hostile summary, a deployment that went out against
// policy, and drift. Checks each section shows them, as text.
//
// Run it through `cargo test -p catalog-tests --test integration governance::`.

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const seed = JSON.parse(readFileSync(process.env.SEED, 'utf8'));
const T = 15_000;
const url = (p) => new URL(p, seed.catalog).href;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
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

const page = await browser.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('dialog', (d) => { errors.push(`dialog: ${d.message()}`); d.dismiss(); });

await check('the nav leads to Releases, and prod is one click away', async () => {
  await page.goto(url('/'));
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Releases' }).click();
  await page.getByRole('heading', { name: 'Releases', exact: true }).waitFor({ timeout: T });
  await page.getByRole('navigation', { name: 'Environments' }).getByRole('link', { name: 'prod' }).click();
  await page.getByRole('heading', { name: 'Releases · prod' }).waitFor({ timeout: T });
  assert.equal(new URL(page.url()).search, '?environment=prod');
});

await check('the policy set in force, and the refused one with its file and line', async () => {
  const card = page.locator('section[aria-labelledby="pol-h"]');
  const text = await card.textContent();
  assert.match(text, /prod-promotion\.rego/);
  assert.match(text, /catalog\.prod/);
  const alert = card.getByRole('alert');
  assert.match(await alert.textContent(), /broken\.rego: .*broken\.rego:6:9/s);
});

await check('the calendar lists the entries, a hostile summary as text, and links the feed', async () => {
  await page.getByRole('heading', { name: /^Calendar \(2\)$/ }).waitFor({ timeout: T });
  const table = page.locator('h2:has-text("Calendar") ~ div.table-wrap').first();
  const text = await table.textContent();
  assert.match(text, /freeze/);
  assert.match(text, /release-window/);
  assert.ok(text.includes('<img src=x onerror=window.pwned=1>'), text);
  assert.equal(await table.locator('img').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  const feed = page.getByRole('link', { name: 'Subscribe: prod.ics' });
  assert.equal(await feed.getAttribute('href'), '/calendar/prod.ics');
});

await check('what went out against policy, with the reasons', async () => {
  // The pipeline's deployment, and the version a cluster snapshot showed running.
  await page.getByRole('heading', { name: 'Went out against policy (2)' }).waitFor({ timeout: T });
  const text = await page.locator('h2:has-text("Went out against policy") + div').textContent();
  assert.match(text, /shop\/cart 1\.0\.0/);
  assert.match(text, /shop\/cart 1\.0\.1/);
  assert.match(text, /prod-eu-1\/shop\/cart/);
  assert.match(text, /ci-bot/);
  assert.match(text, /needs an approval for prod by someone other than the deployer and the image's pusher/);
});

await check('drift: the unrecorded version, still running', async () => {
  await page.getByRole('heading', { name: 'Unrecorded changes (1)' }).waitFor({ timeout: T });
  const text = await page.locator('h2:has-text("Unrecorded changes") + div').textContent();
  assert.match(text, /shop\/cart 1\.0\.1/);
  assert.match(text, /kubernetes/);
  assert.match(text, /still running/);
});

await check('staging shows none of prod\'s', async () => {
  await page.goto(url('/releases?environment=staging'));
  await page.getByRole('heading', { name: 'Releases · staging' }).waitFor({ timeout: T });
  await page.getByRole('heading', { name: 'Went out against policy (0)' }).waitFor({ timeout: T });
  await page.getByRole('heading', { name: 'Unrecorded changes (0)' }).waitFor({ timeout: T });
});

await check('the component page shows the version\'s approvals, its violations and its drift', async () => {
  await page.goto(url('/components/shop/cart?version=1.0.0'));
  const section = page.locator('section[aria-labelledby="gov-h"]');
  await section.getByRole('heading', { name: 'Approvals of 1.0.0 (1)' }).waitFor({ timeout: T });
  const text = await section.textContent();
  assert.match(text, /staging/);
  assert.match(text, /release-manager/);
  assert.ok(text.includes('<b>looks fine</b>'), text);
  assert.equal(await section.locator('b').count(), 0);
  // The pipeline's 1.0.0 and the snapshot's unrecorded 1.0.1 both went out against policy.
  assert.match(text, /Went out against policy \(2\)/);
  assert.match(text, /needs an approval for prod by someone other than the deployer and the image's pusher/);
  assert.match(text, /shop\/cart 1\.0\.1 has not been healthy in staging/);
  assert.match(text, /Unrecorded changes \(1\)/);
  assert.match(text, /1\.0\.1/);
});

await check('no page error or dialog', async () => {
  assert.deepEqual(errors, []);
});

await browser.close();
process.exit(failed ? 1 : 0);
