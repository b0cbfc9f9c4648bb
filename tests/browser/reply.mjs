// A reader with JavaScript off reads an article in Chromium, replies, answers a reply, and
// sees both. Usage: node reply.mjs ARTICLE_URL FRONT_URL SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [articleUrl, frontUrl, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
try {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  await page.goto(frontUrl);
  assert.ok(await page.locator('.summary h2 a').count() >= 2, 'the front page lists articles');
  await page.screenshot({ path: `${shots}/front.png`, fullPage: true });

  await page.goto(articleUrl);
  assert.equal(await page.locator('h1').count(), 1);
  assert.equal(await page.locator('#respond h2').innerText(), 'Leave a Reply');
  await page.screenshot({ path: `${shots}/article.png`, fullPage: true });

  // An empty form is stopped by the browser itself: the fields are `required`.
  await page.click('#respond button[type=submit]');
  assert.equal(page.url(), articleUrl, 'required fields stop an empty form');

  await page.fill('#comment', 'Posted from Chromium — with “quotes”.');
  await page.fill('#name', 'Chromium Reader');
  await page.fill('#email', 'chromium.reader@example.com');
  await page.check('#remember');
  await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('#respond button[type=submit]')]);
  const id = page.url().split('#comment-')[1];
  const reply = page.locator(`#comment-${id}`);
  assert.equal(await reply.locator('.reply-text').innerText(), 'Posted from Chromium — with “quotes”.');

  // The Reply link works without JavaScript, and the form remembers the reader.
  await Promise.all([page.waitForURL(/replytocom=/), reply.locator('.reply-link').first().click()]);
  assert.equal(await page.locator('#respond h2').innerText(), 'Reply to Chromium Reader');
  assert.equal(await page.locator('#respond .replying-to').innerText(), 'Posted from Chromium — with “quotes”.');
  assert.equal(await page.locator('#respond p.cancel-reply a').innerText(), 'Cancel reply');
  assert.equal(await page.inputValue('#name'), 'Chromium Reader');
  assert.equal(await page.inputValue('#email'), 'chromium.reader@example.com');
  await page.fill('#comment', 'And an answer to myself.');
  await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('#respond button[type=submit]')]);
  const child = page.url().split('#comment-')[1];
  assert.equal(await page.locator(`#comment-${id} > ol.children > #comment-${child}`).count(), 1, 'nested');

  // An address the browser lets through and the site does not: the page the server sends
  // back (no script here) has the summary focused, linking to the field, which is marked,
  // and everything typed is still there.
  await page.goto(articleUrl);
  await page.fill('#comment', 'Kept when refused.');
  await page.fill('#email', 'reader@localhost');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.click('#respond button[type=submit]'),
  ]);
  assert.equal(refused.status(), 422);
  await page.waitForLoadState('load');
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'form-errors');
  assert.equal(await page.locator('#form-errors a[href="#email"]').count(), 1, 'the summary links to the field');
  assert.equal(await page.getAttribute('#email', 'aria-invalid'), 'true');
  const edges = await page.evaluate(() => ['#email', '#name'].map((css) => getComputedStyle(document.querySelector(css)).borderColor));
  assert.notEqual(edges[0], edges[1], `the wrong field is marked: ${edges}`);
  assert.equal(await page.inputValue('#comment'), 'Kept when refused.');
  assert.equal(await page.inputValue('#email'), 'reader@localhost');
  await page.screenshot({ path: `${shots}/refused-no-script.png`, fullPage: true });
  await page.click('#form-errors a[href="#email"]');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'email');

  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto(frontUrl);
  await page.screenshot({ path: `${shots}/front-375.png`, fullPage: true });
  await page.goto(articleUrl);
  await page.screenshot({ path: `${shots}/article-375.png`, fullPage: true });
  // Nothing is wider than a small phone's screen.
  const widest = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(widest <= 375, `the page is ${widest} px wide at 375 px`);
  await page.setViewportSize({ width: 320, height: 700 });
  const narrowest = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(narrowest <= 320, `the page is ${narrowest} px wide at 320 px`);
  console.log(`replied as #comment-${id} and #comment-${child}; screenshots in ${shots}`);
} finally {
  await browser.close();
}
