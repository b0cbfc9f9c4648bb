// A journalist drops two photos into the body and pastes a third, each uploaded with progress
// and its Markdown put where the cursor was; makes one the featured image, publishes, and
// looks at the article and the front page at phone and desktop widths.
// Usage: node photos.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_DIR IMAGE...
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [base, email, password, shots, ...images] = process.argv.slice(2);
const files = images.map((path) => ({
  name: basename(path),
  type: path.endsWith('.png') ? 'image/png' : 'image/jpeg',
  data: readFileSync(path).toString('base64'),
}));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});

// Builds the files in the page and sends them to the body as a drop or a paste.
async function give(page, kind, chosen) {
  await page.evaluate(({ kind, chosen }) => {
    const transfer = new DataTransfer();
    for (const f of chosen) {
      const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], f.name, { type: f.type }));
    }
    const body = document.getElementById('body');
    if (kind === 'drop') {
      body.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    } else {
      body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    }
  }, { kind, chosen });
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The publish warning is itself a 422 page, which Chromium logs as a failed load.
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 422/.test(m.text())) errors.push(m.text()); });
  const progress = [];
  await page.exposeFunction('noteProgress', (t) => progress.push(t));

  await page.goto(`${base}/admin/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/admin/`), page.click('main button[type=submit]')]);
  await page.goto(`${base}/admin/articles/new`);
  await page.fill('#headline', 'Floodwater reaches the old quay');
  await page.fill('#standfirst', 'Residents moved sandbags through the night.');
  const first = 'The river rose a metre overnight.';
  const last = 'More rain is forecast for Thursday.';
  await page.fill('#body', `${first}\n\n${last}`);
  await page.evaluate(() => {
    const status = document.getElementById('upload-status');
    new MutationObserver(() => window.noteProgress(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
  });

  // Two dropped between the paragraphs, where the cursor is.
  await page.evaluate((at) => document.getElementById('body').setSelectionRange(at, at), first.length);
  await give(page, 'drop', files.slice(0, 2));
  await page.waitForFunction(() => /2 images added/.test(document.getElementById('upload-status').textContent), null, { timeout: 30000 });
  let body = await page.inputValue('#body');
  const dropped = body.match(/!\[\]\(\/media\/\d+\)/g) || [];
  assert.equal(dropped.length, 2, body);
  assert.ok(body.startsWith(first) && body.trimEnd().endsWith(last), body);
  assert.ok(body.indexOf(dropped[0]) > body.indexOf(first) && body.indexOf(dropped[1]) < body.indexOf(last), body);
  assert.ok(progress.some((t) => /Uploading .*%/.test(t)), `progress was shown: ${progress.join(' | ')}`);

  // One pasted at the end.
  const end = body.length;
  await page.evaluate((at) => document.getElementById('body').setSelectionRange(at, at), end);
  await give(page, 'paste', files.slice(2, 3));
  await page.waitForFunction(() => /1 image added/.test(document.getElementById('upload-status').textContent), null, { timeout: 30000 });
  body = await page.inputValue('#body');
  assert.equal((body.match(/!\[\]\(\/media\/\d+\)/g) || []).length, 3, body);
  // The live preview shows them as figures.
  await page.waitForFunction(() => document.querySelectorAll('#live-preview figure.photo img').length === 3, null, { timeout: 10000 });

  // Each new image asks for its description beside it: the second is described there, saved
  // to the library without leaving the editor.
  const second = dropped[1].match(/\d+/)[0];
  await page.fill(`#describe-${second}`, 'The old quay at high water');
  await page.click(`#describe-${second} + button`);
  await page.locator(`#describe-${second}-status`, { hasText: 'Saved.' }).waitFor();
  const kept = await page.evaluate(async (id) => {
    const html = await (await fetch(`/admin/media/${id}/`)).text();
    return new DOMParser().parseFromString(html, 'text/html').querySelector('#alt').value;
  }, second);
  assert.equal(kept, 'The old quay at high water');
  // Describe the first in the Markdown; feature the second (a plain form button).
  await page.fill('#body', body.replace(dropped[0], dropped[0].replace('![]', '![Sandbags at the quay wall]')));
  await Promise.all([page.waitForLoadState('load'), page.click(`button[value="feature-${second}"]`)]);
  assert.equal(await page.inputValue('#image_url'), `/media/${second}`);
  await page.fill('#image_alt', 'The old quay under water');
  await page.fill('#image_caption', 'Sandbags at the old quay on Tuesday night.');
  if (await page.locator('#lead').count()) await page.check('#lead');

  // Publishing warns of the pasted image with no description, naming it.
  await Promise.all([page.waitForLoadState('load'), page.click('button[value=publish]')]);
  const warning = await page.locator('#body-error').innerText();
  assert.match(warning, /no description/);
  await page.screenshot({ path: `${shots}/photos-editor.png`, fullPage: true });
  await page.check('#without_descriptions');
  await Promise.all([page.waitForURL(/saved=published/), page.click('button[value=publish]')]);
  await Promise.all([page.waitForURL(/\/\d{4}\/\d{2}\/\d{2}\//), page.click('text=View the article')]);
  const articleUrl = page.url();

  for (const width of [375, 1280]) {
    const reader = await (await browser.newContext({ viewport: { width, height: 900 } })).newPage();
    await reader.goto(articleUrl);
    await reader.waitForLoadState('networkidle');
    const featured = reader.locator('figure.featured img');
    assert.equal(await featured.getAttribute('alt'), 'The old quay under water');
    const loaded = await reader.evaluate(() => [...document.querySelectorAll('figure img')].slice(0, 1).every((i) => i.complete && i.naturalWidth > 0));
    assert.ok(loaded, 'the featured image loads');
    const chosen = await featured.evaluate((i) => i.currentSrc);
    assert.match(chosen, /\/media\/[0-9a-f]{32}\//);
    const wider = () => reader.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(await wider() <= 0, `the article fits ${width} px`);
    await reader.screenshot({ path: `${shots}/photos-article-${width}.png`, fullPage: true });
    await reader.goto(`${base}/`);
    await reader.waitForLoadState('networkidle');
    assert.ok(await wider() <= 0, `the front page fits ${width} px`);
    const lead = await reader.locator('.lead-image img').evaluate((i) => i.getBoundingClientRect().width);
    assert.ok(lead > 0 && lead <= width, `the lead image is ${lead} px wide at ${width}`);
    await reader.screenshot({ path: `${shots}/photos-front-${width}.png`, fullPage: true });
  }
  assert.deepEqual(errors, [], 'no script errors');
  console.log(`published ${articleUrl}; screenshots in ${shots}`);
} finally {
  await browser.close();
}
