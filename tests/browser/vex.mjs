// VEX in the dashboard, in Debian's headless Chromium driven by playwright-core, against the
// catalog that tests/tests/integration/vex.rs seeded: one image's Log4Shell match suppressed
// by an OpenVEX statement, another's counted. Checks that the vulnerability page lists the
// suppressed image apart with its justification, that each image page counts only what
// counts and shows the suppressed match under its own heading, and that a hostile impact
// statement is shown as text.
//
// Run it through `cargo test -p catalog-tests --test integration vex::`.

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

await check('the vulnerability page lists the suppressed image apart, with the justification', async () => {
  await page.goto(url(`/vulnerabilities/${seed.cve}`));
  const heading = page.getByRole('heading', { name: /Suppressed by VEX \(1 images/ });
  await heading.waitFor({ timeout: T });
  const table = page.locator('h2:has-text("Suppressed by VEX") + div');
  const text = await table.textContent();
  assert.match(text, /vulnerable_code_not_in_execute_path/);
  assert.match(text, /Vendor Security/);
  assert.ok(text.includes(seed.cart.slice(0, 19)) || text.includes(seed.cart.slice(7, 19)), text);
  // The hostile impact statement is text, not markup.
  assert.match(text, /<img src=x onerror=window\.pwned=1>/);
  assert.equal(await table.locator('img').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  const totals = await page.locator('ul.totals').textContent();
  assert.match(totals, /1\s*images/, totals);
  const blast = page.getByRole('link', { name: 'Blast radius of this vulnerability' });
  assert.match(await blast.getAttribute('href'), /vulnerability=/);
});

await check('the suppressed image counts no vulnerability and shows the match under its own heading', async () => {
  await page.goto(url(`/images/${seed.cart}`));
  await page.getByRole('heading', { name: 'Vulnerabilities (0)' }).waitFor({ timeout: T });
  await page.getByRole('heading', { name: 'Suppressed by VEX (1)' }).waitFor({ timeout: T });
  const text = await page.locator('h2:has-text("Suppressed by VEX") + div').textContent();
  assert.match(text, new RegExp(seed.ghsa));
  assert.match(text, /not affected/);
});

await check('the other image still counts its match', async () => {
  await page.goto(url(`/images/${seed.api}`));
  await page.getByRole('heading', { name: 'Vulnerabilities (1)' }).waitFor({ timeout: T });
  assert.equal(await page.getByRole('heading', { name: /Suppressed by VEX/ }).count(), 0);
});

await check('no page error or dialog', async () => {
  assert.deepEqual(errors, []);
});

await browser.close();
process.exit(failed ? 1 : 0);
