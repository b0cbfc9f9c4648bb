// A reader asks to be told of replies by email, in Chromium: ticks the box, follows the
// confirmation link from the mail the SMTP server received, gets the notification when someone
// answers, and unsubscribes from it. Usage: node mail.mjs ARTICLE_URL MAIL_DIR SCREENSHOT_DIR
// (MAIL_DIR: where tests/python/smtp_sink.py keeps each message, parsed, as NNNN.json).
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';

const [articleUrl, mailDir, shots] = process.argv.slice(2);

/** Waits for the COUNT-th message to arrive; returns it as the SMTP server's parser read it. */
async function mail(count) {
  for (let i = 0; i < 200; i++) {
    const names = readdirSync(mailDir).filter((n) => n.endsWith('.json')).sort();
    if (names.length >= count) return JSON.parse(readFileSync(`${mailDir}/${names[count - 1]}`, 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`mail ${count} never came`);
}

const header = (message, name) =>
  message.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(articleUrl);
  const box = page.getByLabel('Notify me of replies to my comment by email');
  assert.equal(await box.isChecked(), false, 'unticked until the reader ticks it');
  await page.fill('#comment', 'Tell me when someone answers.');
  await page.fill('#name', 'Mail Reader');
  await page.fill('#email', 'mail.reader@example.com');
  await box.check();
  await page.screenshot({ path: `${shots}/mail-form.png`, fullPage: true });
  // The page's script posts it and shows it in place, without a reload.
  const [posted] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 201),
    page.click('#respond button[type=submit]'),
  ]);
  const id = String((await posted.json()).id);
  await page.locator(`#comment-${id}`).waitFor();

  // The confirmation, and its link: a page with a button; the button confirms.
  const confirmation = await mail(1);
  assert.deepEqual(confirmation.rcpt_tos, ['mail.reader@example.com']);
  const confirm = confirmation.text.match(/https?:\/\/\S+\/mail\/confirm\/\S+/)[0];
  await page.goto(confirm);
  await page.screenshot({ path: `${shots}/mail-confirm.png`, fullPage: true });
  await page.getByRole('button', { name: 'Confirm my address' }).click();
  await page.getByRole('heading', { name: 'Your address is confirmed' }).waitFor();

  // Someone answers (in another browser); the notification arrives.
  const other = await browser.newContext();
  const answering = await other.newPage();
  await answering.goto(`${articleUrl}?replytocom=${id}#respond`);
  await answering.fill('#comment', 'Here is your answer.');
  await answering.fill('#name', 'Another Reader');
  await answering.fill('#email', 'another@example.com');
  const [answered] = await Promise.all([
    answering.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 201),
    answering.click('#respond button[type=submit]'),
  ]);
  const answerId = String((await answered.json()).id);
  const note = await mail(2);
  assert.deepEqual(note.rcpt_tos, ['mail.reader@example.com']);
  assert.match(header(note, 'Subject'), /Another Reader replied to you/);
  assert.match(note.text, /> Here is your answer\./);
  assert.equal(header(note, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
  // The mail's link to the answer opens the thread at it.
  const readIt = note.text.match(/https?:\/\/\S+\/replies\/\d+/)[0];
  await page.goto(readIt);
  assert.ok(page.url().endsWith(`#comment-${answerId}`), page.url());
  await page.locator(`#comment-${answerId}`).waitFor();

  // Its unsubscribe link: a page with a button; the button unsubscribes.
  const unsubscribe = header(note, 'List-Unsubscribe').replace(/^<|>$/g, '');
  await page.goto(unsubscribe);
  await page.getByRole('button', { name: 'Stop every email from this site to this address' }).waitFor();
  await page.getByRole('button', { name: 'Unsubscribe', exact: true }).click();
  await page.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
  await page.screenshot({ path: `${shots}/mail-unsubscribed.png`, fullPage: true });
  console.log('confirmed, notified and unsubscribed');
} finally {
  await browser.close();
}
