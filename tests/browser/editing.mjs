// Two journalists on one article in Chromium: the second Update is refused with what the
// first changed, their own text kept, and goes through when sent again; what is typed is kept
// in the browser and offered back after a reload; the dashboard's and frame's counts; the
// queue's Select all. Usage: node editing.mjs BASE_URL ARTICLE_ID FIRST_COOKIE SECOND_COOKIE SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [base, id, firstCookie, secondCookie, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});

const dialogs = [];
async function signedIn(cookie) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const [name, value] = cookie.split(/=(.*)/s);
  await context.addCookies([{ name, value, url: base }]);
  const page = await context.newPage();
  page.on('dialog', (dialog) => { dialogs.push(dialog.type()); dialog.accept(); });
  return page;
}

try {
  const editor = `${base}/admin/articles/${id}/`;
  const first = await signedIn(firstCookie);
  const second = await signedIn(secondCookie);
  await first.goto(editor);
  await second.goto(editor);

  await first.fill('#body', 'The ferry ran on time again.');
  await Promise.all([first.waitForURL(/saved=published/), first.click('button[value=publish]')]);

  await second.fill('#standfirst', 'A standfirst of my own.');
  await Promise.all([
    second.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 409),
    second.click('button[value=publish]'),
  ]);
  await second.waitForSelector('#conflict');
  assert.equal(await second.evaluate(() => document.activeElement.id), 'conflict', 'the conflict is read first');
  assert.match(await second.locator('#conflict').innerText(), /The ferry ran on time again\./);
  assert.equal(await second.inputValue('#standfirst'), 'A standfirst of my own.', 'their text is kept');
  await second.screenshot({ path: `${shots}/editor-conflict.png`, fullPage: true });
  await Promise.all([second.waitForURL(/saved=published/), second.click('button[value=publish]')]);
  assert.equal(await second.inputValue('#standfirst'), 'A standfirst of my own.');

  // Typed and not saved: kept in this browser, offered back after a reload.
  await second.click('#headline'); // a person's click: the page may then ask before leaving
  await second.fill('#headline', 'A headline not yet saved');
  await second.waitForTimeout(800);
  await second.reload();
  await second.waitForSelector('.autosave-notice');
  assert.notEqual(await second.inputValue('#headline'), 'A headline not yet saved');
  assert.ok(dialogs.includes('beforeunload'), `leaving with unsaved changes asks first: ${dialogs}`);
  await second.click('.autosave-notice button:has-text("Put them back")');
  assert.equal(await second.inputValue('#headline'), 'A headline not yet saved');

  // Kept text typed before a colleague's save: put back, it cannot overwrite that save
  // unseen; the Update shows what changed first.
  await second.waitForTimeout(800);
  await first.goto(editor);
  await first.fill('#body', 'The ferry ran late after all.');
  await Promise.all([first.waitForURL(/saved=published/), first.click('button[value=publish]')]);
  await second.reload();
  await second.waitForSelector('.autosave-notice');
  assert.match(await second.locator('.autosave-notice').innerText(), /Someone has saved this article since/);
  await second.click('.autosave-notice button:has-text("Put them back")');
  await Promise.all([
    second.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 409),
    second.click('button[value=publish]'),
  ]);
  await second.waitForSelector('#conflict');
  assert.match(await second.locator('#conflict').innerText(), /The ferry ran late after all\./);
  assert.equal(await second.inputValue('#headline'), 'A headline not yet saved');
  // The word count follows the typing.
  await second.fill('#body', 'One two three four five.');
  assert.equal(await second.locator('#word-count').innerText(), '5 words');

  // The dashboard's held count, and the frame's on every page.
  await first.goto(`${base}/admin/`);
  assert.equal(await first.locator('#held-count').innerText(), '2');
  assert.equal(await first.locator('.admin-nav .count-badge').textContent(), '2 held');
  await first.screenshot({ path: `${shots}/dashboard.png`, fullPage: true });

  // Select all ticks every reply of the page.
  await first.goto(`${base}/admin/replies/?status=pending`);
  await first.check('#select-all');
  const ticked = await first.locator('input[name=ids]:checked').count();
  assert.equal(ticked, await first.locator('input[name=ids]').count());
  assert.equal(ticked, 2);
  console.log('conflict refused and resolved; autosave offered back; counts and select-all checked');
} finally {
  await browser.close();
}
