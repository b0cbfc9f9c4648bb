// A staff member signs in, writes an article with the live preview, publishes it, and opens
// it as a reader. Usage: node newsroom.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [base, email, password, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  await page.goto(`${base}/admin/`);
  assert.match(page.url(), /\/admin\/login\?next=/, 'signed out: sent to sign in');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/admin/`), page.click('main button[type=submit]')]);

  await page.click('a[href="/admin/articles/new"] >> nth=0');
  await page.waitForURL(`${base}/admin/articles/new`);
  await page.fill('#headline', 'Harbour wall to be rebuilt after winter storms');
  await page.fill('#standfirst', 'The council will spend £2.4m — more than first planned.');
  await page.fill('#section', 'Local');
  await page.fill('#tags', 'Harbour, Council');
  await page.fill('#body', 'Work starts in **March**.\n\n# Why now\n\nThe storms of “last winter” cracked the wall.');
  // The live preview follows the typing, with no button pressed.
  await page.waitForSelector('#live-preview strong');
  assert.equal(await page.locator('#live-preview strong').innerText(), 'March');
  assert.equal(await page.locator('#live-preview h2').innerText(), 'Why now');
  await page.screenshot({ path: `${shots}/editor.png`, fullPage: true });

  await Promise.all([page.waitForURL(/saved=published/), page.click('button[value=publish]')]);
  assert.equal(await page.locator('.notice').innerText(), 'Published.');
  await Promise.all([page.waitForURL(/\/\d{4}\/\d{2}\/\d{2}\//), page.click('text=View the article')]);
  assert.equal(await page.locator('h1').innerText(), 'Harbour wall to be rebuilt after winter storms');
  const articleUrl = page.url();

  // A reader, in a fresh browser with no session, sees the same article.
  const reader = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await reader.goto(articleUrl);
  assert.equal(await reader.locator('.story-body strong').innerText(), 'March');
  assert.equal(await reader.locator('.kicker').textContent(), 'Local');

  await page.goto(`${base}/admin/articles/`);
  assert.ok(await page.locator('.article-table tbody tr').count() >= 1);
  await page.screenshot({ path: `${shots}/articles.png`, fullPage: true });
  assert.deepEqual(errors, [], 'no script errors');
  console.log(`published ${articleUrl}; screenshots in ${shots}`);
} finally {
  await browser.close();
}
