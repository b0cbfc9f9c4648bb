// Replies on another site's page, in Chromium: a static page on a listed origin (a second
// local port, under a strict Content-Security-Policy of its own) shows the thread and the
// form from embed.js; a reader posts, and sees their held reply (after a reload too) while
// another reader does not; the moderator's approval reaches the other reader live, and so
// does a removal; the form is reached by Tab in order and passes axe-core; a page of an
// unlisted origin shows its own link and cannot post.
// Usage: node embed.mjs PAGE_URL UNLISTED_URL LISTING_URL BYLINE_URL TOKEN SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [pageUrl, unlistedUrl, listingUrl, byline, token, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
const errors = [];
const watch = (page) => {
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
};
try {
  const reader = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await reader.newPage();
  watch(page);
  await page.goto(pageUrl);
  const embed = page.locator('#byline-replies');
  // The form, with the same fields, labels, marks and promise as Byline's own.
  await embed.getByRole('heading', { name: 'Leave a Reply' }).waitFor();
  assert.match(await embed.locator('form').innerText(), /Your email address will not be published\. Required fields are marked \*/);
  for (const label of ['Comment', 'Name', 'Email', 'Website']) {
    assert.equal(await embed.getByLabel(new RegExp(`^${label}`)).count(), 1, `${label} is labelled`);
  }
  const fallback = page.locator('#byline-replies > a');
  assert.equal(await fallback.isVisible(), false, 'the page\'s own link gives way');
  // Styled from inside its shadow root, whatever the page's CSP says about styles.
  const buttonColour = await embed.getByRole('button', { name: 'Post Reply' }).evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.equal(buttonColour, 'rgb(120, 40, 40)', 'the host themes it with --byline-accent');

  // From the keyboard alone: Tab reaches each field and the button, in the form's order.
  const reached = [];
  for (let i = 0; i < 40 && !reached.includes('Post Reply'); i++) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => {
      let el = document.activeElement;
      while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
      if (!el) return '';
      const label = el.labels && el.labels[0] ? el.labels[0].textContent : el.textContent;
      return label.replace(/\s*\*\s*$/, '').trim();
    }));
  }
  const at = (name) => reached.findIndex((r) => r.startsWith(name));
  const order = ['Comment', 'Name', 'Email', 'Website', 'Post Reply'].map(at);
  assert.ok(order.every((n, i) => n >= 0 && (i === 0 || n > order[i - 1])), `Tab order: ${reached}`);

  // axe-core's WCAG 2.1 A and AA rules over the embed, inside its shadow root.
  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const audit = await page.evaluate(() => window.axe.run({ include: [['#byline-replies']] }, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  const found = audit.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
  assert.deepEqual(found, [], 'the embed passes axe-core');

  // A refused form: the message beside its field, everything typed kept.
  await embed.getByLabel(/^Comment/).fill('Hello from the blog.');
  await embed.getByLabel(/^Name/).fill('Blog Reader');
  await embed.getByLabel(/^Email/).fill('not-an-address');
  await embed.getByLabel(/^Website/).fill('https://reader.example/');
  await embed.getByLabel('Save my name and website in this browser for the next time I comment.').check();
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/threads/replies') && r.status() === 422),
    embed.getByRole('button', { name: 'Post Reply' }).click(),
  ]);
  const email = embed.getByLabel(/^Email/);
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  const note = await email.getAttribute('aria-describedby');
  assert.match(await page.locator(`#byline-replies >> #${note}`).innerText(), /email/i);
  assert.equal(await embed.getByLabel(/^Comment/).inputValue(), 'Hello from the blog.');
  await page.screenshot({ path: `${shots}/embed-refused.png`, fullPage: true });

  // Posted: held for moderation, shown to its poster alone.
  await email.fill('blog.reader@example.com');
  const [posted] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/threads/replies') && r.request().method() === 'POST' && r.status() === 201),
    embed.getByRole('button', { name: 'Post Reply' }).click(),
  ]);
  const id = (await posted.json()).reply.id;
  const mine = page.locator(`#byline-replies >> #comment-${id}`);
  await mine.waitFor();
  assert.match(await mine.innerText(), /Your comment is awaiting moderation\./);
  assert.match(await mine.innerText(), /Hello from the blog\./);
  const stored = await page.evaluate(() => JSON.stringify(Object.assign({}, localStorage)));
  assert.ok(!stored.includes('blog.reader@example.com'), 'never the email in localStorage');
  assert.ok(stored.includes('Blog Reader'), 'the name, as asked');
  await page.screenshot({ path: `${shots}/embed-held.png`, fullPage: true });
  await page.reload();
  await page.locator(`#byline-replies >> #comment-${id}`).waitFor();
  assert.equal(await embed.getByLabel(/^Name/).inputValue(), 'Blog Reader', 'remembered');
  assert.equal(await embed.getByLabel(/^Website/).inputValue(), 'https://reader.example/');
  assert.equal(await embed.getByLabel(/^Email/).inputValue(), '', 'the email is not kept');

  // Another reader: no held reply; then the approval arrives while they read.
  const other = await (await browser.newContext({ viewport: { width: 1000, height: 900 } })).newPage();
  watch(other);
  await other.goto(pageUrl);
  await other.locator('#byline-replies').getByRole('heading', { name: 'Leave a Reply' }).waitFor();
  assert.equal(await other.locator(`#byline-replies >> #comment-${id}`).count(), 0, 'held: theirs alone');
  await other.waitForTimeout(500);
  const approved = await fetch(`${byline}/api/v1/replies/${id}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ action: 'approve' }),
  });
  assert.equal(approved.status, 200, await approved.text());
  const show = other.locator('#byline-replies').getByRole('button', { name: '1 new reply — show' });
  await show.waitFor({ timeout: 5000 });
  await show.click();
  const theirs = other.locator(`#byline-replies >> #comment-${id}`);
  await theirs.waitFor();
  assert.doesNotMatch(await theirs.innerText(), /awaiting moderation/);
  await other.screenshot({ path: `${shots}/embed-live.png`, fullPage: true });

  // Reply counts on a listing page.
  const listing = await reader.newPage();
  watch(listing);
  await listing.goto(listingUrl);
  await listing.locator('a[data-byline-count]', { hasText: '1 reply' }).waitFor();
  assert.equal(await listing.locator('a[data-byline-count]', { hasText: '0 replies' }).count(), 1);

  // A moderator takes the reply down: the reader still on the page is offered the change.
  const trashed = await fetch(`${byline}/api/v1/replies/${id}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ action: 'trash' }),
  });
  assert.equal(trashed.status, 200, await trashed.text());
  const update = other.locator('#byline-replies').getByRole('button', { name: '1 reply removed — update' });
  await update.waitFor({ timeout: 5000 });
  assert.match(await theirs.innerText(), /Hello from the blog\./, 'nothing moves before the reader asks');
  await update.click();
  await theirs.waitFor({ state: 'detached' });

  // An unlisted origin: its own link stays, and the API refuses its posts.
  const stranger = await (await browser.newContext()).newPage();
  await stranger.goto(unlistedUrl);
  await stranger.waitForTimeout(1000);
  assert.equal(await stranger.locator('#byline-replies').getByRole('heading', { name: 'Leave a Reply' }).count(), 0);
  assert.ok(await stranger.locator('#byline-replies a').isVisible(), 'the page\'s own link shows');
  const refused = await stranger.evaluate(async (api) => {
    try {
      const r = await fetch(`${api}/api/v1/threads/replies`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ comment: 'x', name: 'x', email: 'x@example.com', url: location.href }),
      });
      return `answered ${r.status}`;
    } catch (e) {
      return 'refused';
    }
  }, byline);
  assert.equal(refused, 'refused');
  await stranger.screenshot({ path: `${shots}/embed-unlisted.png` });
  assert.deepEqual(errors.filter((e) => !/Failed to load resource|CORS|403/.test(e)), [], 'no script errors');
  console.log(`posted #comment-${id} from ${pageUrl}; approved live`);
} finally {
  await browser.close();
}
