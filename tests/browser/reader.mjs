// A reader's comfort in Chromium, with the page's own script on: a refused form's summary is
// focused and links to its fields, which are marked; the measure of body text and replies at
// 375, 768 and 1280 px and in print; Reply moves the form under the reply it answers (Cancel
// puts it back); buttons keep an edge in forced colours.
// Usage: node reader.mjs ARTICLE_URL SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [articleUrl, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});

// The longest line, in characters (spaces included), of the text in elements matching
// `selector`: each line is found from where its characters are laid out.
async function longestLine(page, selector) {
  return page.evaluate((css) => {
    let longest = 0;
    for (const element of document.querySelectorAll(css)) {
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      const lines = new Map();
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const range = document.createRange();
        for (let i = 0; i < node.length; i++) {
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const rect = range.getBoundingClientRect();
          if (rect.width === 0) continue;
          const top = Math.round(rect.top);
          const line = lines.get(top) || { first: rect.left, last: rect.right, chars: 0 };
          line.chars += 1;
          lines.set(top, line);
        }
      }
      for (const [, line] of lines) longest = Math.max(longest, line.chars);
    }
    return longest;
  }, selector);
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A 422 or 429 is logged as a failed load: that is the page under test, not a fault.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  await page.goto(articleUrl);

  // The measure: at most 75 characters a line on any screen, 60 to 75 from 768 px and in print.
  const measures = {};
  for (const width of [1280, 768, 375]) {
    await page.setViewportSize({ width, height: 900 });
    const body = await longestLine(page, '.story-body p');
    const replies = await longestLine(page, '.reply-text p');
    measures[width] = { body, replies };
    assert.ok(body <= 75 && replies <= 75, `lines at ${width} px: ${JSON.stringify(measures[width])}`);
    if (width >= 768) {
      assert.ok(body >= 60 && replies >= 60, `lines at ${width} px: ${JSON.stringify(measures[width])}`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ media: 'print' });
  const printed = await longestLine(page, '.story-body p');
  assert.ok(printed >= 60 && printed <= 75, `printed lines: ${printed}`);
  const printedReplies = await longestLine(page, '.reply-text p');
  assert.ok(printedReplies >= 60 && printedReplies <= 75, `printed reply lines: ${printedReplies}`);
  await page.emulateMedia({ media: 'screen' });

  // Reply links are targets of at least 24 by 24 px (WCAG 2.2).
  const target = await page.locator('.reply-link').first().boundingBox();
  assert.ok(target.width >= 24 && target.height >= 24, `a Reply link is ${target.width}×${target.height}`);
  // The skip link's focus ring is whole: the link sits inside the page when focused.
  await page.keyboard.press('Tab');
  const skip = await page.evaluate(() => {
    const link = document.activeElement;
    const box = link.getBoundingClientRect();
    return { cls: link.className, top: box.top, outline: parseFloat(getComputedStyle(link).outlineWidth) };
  });
  assert.equal(skip.cls, 'skip-link');
  assert.ok(skip.top >= skip.outline + 2, `the skip link's ring is cut off: ${JSON.stringify(skip)}`);

  // Reply in context: the form moves under the reply, the cursor into it; Cancel puts it back.
  const first = page.locator('li.reply').first();
  const firstId = (await first.getAttribute('id')).replace('comment-', '');
  const name = await first.locator(':scope > .reply-card .reply-author').innerText();
  await first.locator(':scope > .reply-card .reply-link').click();
  assert.equal(page.url(), articleUrl, 'no reload');
  assert.equal(await page.locator(`#comment-${firstId} > .reply-card + #respond`).count(), 1, 'under the reply');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'comment');
  assert.equal(await page.locator('#respond-title').innerText(), `Reply to ${name}`);
  assert.equal(await page.inputValue('input[name=parent]'), firstId);
  await page.screenshot({ path: `${shots}/reply-in-context.png` });
  await page.click('#respond button.cancel-reply');
  assert.equal(await page.locator('#replies + #respond').count(), 1, 'back at the foot');
  assert.equal(await page.inputValue('input[name=parent]'), '');
  assert.equal(await page.locator('#respond-title').innerText(), 'Leave a Reply');

  // Answer in place, with a wrong address: 422, the summary focused, the field marked.
  await first.locator(':scope > .reply-card .reply-link').click();
  await page.fill('#comment', 'An answer in context.');
  await page.fill('#name', 'Context Reader');
  await page.fill('#email', 'not-an-address');
  await page.evaluate(() => { document.querySelector('#respond form').noValidate = true; });
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 422),
    page.click('#respond button[type=submit]'),
  ]);
  await page.waitForFunction(() => document.readyState === 'complete' && document.getElementById('form-errors'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'form-errors', 'the summary has focus');
  const link = page.locator('#form-errors a[href="#email"]');
  assert.equal(await link.count(), 1, 'the summary links the email field');
  const email = await page.evaluate(() => {
    const style = (id) => getComputedStyle(document.getElementById(id));
    return { invalid: style('email').borderTopColor, valid: style('name').borderTopColor, width: style('email').borderTopWidth };
  });
  assert.notEqual(email.invalid, email.valid, 'the invalid field is marked');
  assert.equal(email.width, '2px');
  await page.screenshot({ path: `${shots}/reply-refused.png`, fullPage: false });
  await link.click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'email', 'the link leads to the field');
  // Still answering the same reply, with everything typed kept.
  assert.equal(await page.inputValue('input[name=parent]'), firstId);
  assert.equal(await page.inputValue('#comment'), 'An answer in context.');
  await page.fill('#email', 'context.reader@example.com');
  // Posted without a reload: the answer appears under the reply it answers, and has focus.
  const before = page.url();
  const [posted] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 201),
    page.click('#respond button[type=submit]'),
  ]);
  const child = String((await posted.json()).id);
  await page.locator(`#comment-${firstId} > ol.children > #comment-${child}`).waitFor();
  assert.equal(page.url(), before, 'no reload');
  assert.equal(await page.evaluate(() => document.activeElement.id), `comment-${child}`);
  assert.equal(await page.locator('#form-errors').count(), 0, 'the messages are gone');
  assert.equal(await page.inputValue('#comment'), '', 'the form is ready for the next');
  assert.equal(await page.locator('#replies + #respond').count(), 1, 'the form is back at the foot');

  // Forced colours (Windows High Contrast): buttons keep a visible edge.
  await page.emulateMedia({ forcedColors: 'active' });
  const edge = await page.evaluate(() => {
    const style = getComputedStyle(document.querySelector('#respond button[type=submit]'));
    return { style: style.borderTopStyle, width: parseFloat(style.borderTopWidth), color: style.borderTopColor };
  });
  assert.equal(edge.style, 'solid', JSON.stringify(edge));
  assert.ok(edge.width >= 1, JSON.stringify(edge));
  assert.notEqual(edge.color, 'rgba(0, 0, 0, 0)', JSON.stringify(edge));
  await page.screenshot({ path: `${shots}/article-forced-colors.png` });
  await page.emulateMedia({ forcedColors: 'none' });

  assert.deepEqual(errors, [], 'no script errors');
  console.log(`measures ${JSON.stringify(measures)}, print ${printed}/${printedReplies}; answered #comment-${firstId} with #comment-${child}`);
} finally {
  await browser.close();
}
