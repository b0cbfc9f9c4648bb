// New replies while reading, in Chromium: one reader reads an article's thread; another posts
// a reply and an answer from their own browser (without a reload); the first sees a bar
// counting them, and on "show" each takes its place, with the text under their eyes left
// where it was. Usage: node live.mjs ARTICLE_URL FIRST_REPLY_ID SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [articleUrl, firstId, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
const errors = [];
try {
  const reading = await (await browser.newContext({ viewport: { width: 1280, height: 700 } })).newPage();
  reading.on('pageerror', (e) => errors.push(e.message));
  await Promise.all([
    reading.waitForResponse((r) => r.url().endsWith('/events')),
    reading.goto(articleUrl),
  ]);
  // The reader is looking at the last reply of the thread.
  const lastId = await reading.locator('#replies ol.reply-list > li.reply').last().getAttribute('id');
  const last = reading.locator(`#${lastId}`);
  await last.scrollIntoViewIfNeeded();
  await reading.evaluate(() => window.scrollBy(0, -100));
  const top = () => last.evaluate((e) => Math.round(e.getBoundingClientRect().top));
  const before = await top();

  const writing = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  writing.on('pageerror', (e) => errors.push(e.message));
  await writing.goto(articleUrl);
  const post = async (comment) => {
    await writing.fill('#comment', comment);
    await writing.fill('#name', 'Second Reader');
    await writing.fill('#email', 'second.reader@example.com');
    const [response] = await Promise.all([
      writing.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 201),
      writing.click('#respond button[type=submit]'),
    ]);
    return String((await response.json()).id);
  };
  const before_url = writing.url();
  const top_level = await post('A new thought, posted without a reload.');
  assert.equal(writing.url(), before_url, 'no reload');
  await writing.locator(`#comment-${top_level}`).waitFor();
  // An answer to the first reply, far above the other reader's eyes.
  await writing.locator(`#comment-${firstId} > .reply-card .reply-link`).click();
  const answer = await post('An answer to the very first reply.');
  await writing.locator(`#comment-${firstId} > ol.children > #comment-${answer}`).waitFor();

  const bar = reading.locator('.new-replies button');
  await bar.filter({ hasText: '2 new replies — show' }).waitFor({ timeout: 5000 });
  assert.equal(await top(), before, 'nothing moved while the bar waits');
  assert.equal(await reading.locator(`#comment-${top_level}`).count(), 0, 'not shown until asked');
  await reading.screenshot({ path: `${shots}/live-bar.png` });
  await bar.click();
  await reading.locator(`#replies ol.reply-list > #comment-${top_level}`).waitFor();
  await reading.locator(`#comment-${firstId} > ol.children > #comment-${answer}`).waitFor();
  assert.equal(await reading.locator('.new-replies').count(), 0, 'the bar is gone');
  const after = await top();
  assert.ok(Math.abs(after - before) <= 1, `the reply being read stayed put: ${before} → ${after}`);
  assert.equal(await reading.locator(`#comment-${top_level} .reply-text`).innerText(), 'A new thought, posted without a reload.');
  await reading.screenshot({ path: `${shots}/live-shown.png` });
  assert.deepEqual(errors, [], 'no script errors');
  console.log(`#comment-${top_level} and #comment-${answer} arrived live; the reader's place held (${before} → ${after})`);
} finally {
  await browser.close();
}
