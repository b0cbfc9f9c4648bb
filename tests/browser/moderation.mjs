// A reader's reply is held; a moderator approves it in the queue; the reader sees it published.
// Usage: node moderation.mjs ARTICLE_URL BASE_URL EMAIL PASSWORD SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [articleUrl, base, email, password, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
try {
  const reader = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await reader.goto(articleUrl);
  await reader.fill('#comment', 'Will a moderator let this through?');
  await reader.fill('#name', 'Patient Reader');
  await reader.fill('#email', 'patient.reader@example.com');
  await Promise.all([reader.waitForURL(/#comment-\d+$/), reader.click('#respond button[type=submit]')]);
  const id = reader.url().split('#comment-')[1];
  assert.equal(await reader.locator(`#comment-${id} .awaiting`).innerText(), 'Your comment is awaiting moderation.');

  const moderator = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await moderator.goto(`${base}/admin/replies/`);
  await moderator.fill('#email', email);
  await moderator.fill('#password', password);
  await Promise.all([moderator.waitForURL(/\/admin\/replies\//), moderator.click('main button[type=submit]')]);
  const item = moderator.locator(`#reply-${id}`);
  assert.match(await item.innerText(), /patient\.reader@example\.com/);
  assert.match(await item.locator('.queue-reason').innerText(), /every reply is held/);
  await moderator.screenshot({ path: `${shots}/queue.png`, fullPage: true });
  await Promise.all([moderator.waitForURL(/\/admin\/replies\//), item.locator('button[value^=approve]').click()]);
  assert.equal(await moderator.locator(`#reply-${id}`).count(), 0, 'gone from the held replies');

  await reader.goto(articleUrl);
  assert.equal(await reader.locator(`#comment-${id} .reply-text`).innerText(), 'Will a moderator let this through?');
  assert.equal(await reader.locator(`#comment-${id} .awaiting`).count(), 0);
  console.log(`approved #comment-${id}; screenshot in ${shots}/queue.png`);
} finally {
  await browser.close();
}
