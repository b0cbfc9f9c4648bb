// axe-core's WCAG 2.1 A and AA rules over every page type, public and newsroom, in light and
// dark, in Chromium; and screenshots at 375 and 1280 px of the pages asked for.
// Usage: node a11y.mjs BASE_URL SESSION_COOKIE SCREENSHOT_DIR PAGES.json
// PAGES.json: [{"name": "front", "path": "/", "staff": false, "shots": true}, ...]; an entry
// with "form" (a selector) and "fields" ({name: value}) fills that form on the page and sends
// it as a browser without script would, and checks the page that comes back (a 422, a 409).
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [base, cookie, shots, list] = process.argv.slice(2);
const pages = JSON.parse(readFileSync(list, 'utf8'));
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const rules = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
const failures = [];
let runs = 0;
try {
  for (const scheme of ['light', 'dark']) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 900 } });
    const [name, value] = cookie.split(/=(.*)/s);
    await context.addCookies([{ name, value, url: base }]);
    const anonymous = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 900 } });
    for (const entry of pages) {
      const page = await (entry.staff ? context : anonymous).newPage();
      let response = await page.goto(base + entry.path);
      if (!response) throw new Error(`${entry.name}: no response`);
      if (entry.form) {
        // form.submit() sends it without the page's script (which would send it itself); a
        // form that needs its button's value is sent with that button.
        [response] = await Promise.all([
          page.waitForNavigation(),
          page.evaluate(({ css, fields, submitter }) => {
            const form = document.querySelector(css);
            form.noValidate = true;
            for (const [name, value] of Object.entries(fields)) form.elements[name].value = value;
            if (submitter) form.requestSubmit(form.querySelector(submitter));
            else form.submit();
          }, { css: entry.form, fields: entry.fields, submitter: entry.submitter }),
        ]);
        if (response.status() !== entry.status) {
          failures.push(`${entry.name}: answered ${response.status()}, not ${entry.status}`);
        }
      }
      // axe is run through the DevTools protocol: the pages' CSP, which allows no inline
      // script, stays as it is.
      await page.evaluate(axeSource);
      const result = await page.evaluate((tags) => window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      }), rules);
      runs += 1;
      for (const violation of result.violations) {
        const targets = violation.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ');
        failures.push(`${entry.name} (${scheme}, ${response.status()}): ${violation.id} — ${violation.help} at ${targets}`);
      }
      if (entry.shots) {
        for (const width of [1280, 375]) {
          await page.setViewportSize({ width, height: 900 });
          await page.screenshot({ path: `${shots}/${entry.name}-${scheme}-${width}.png`, fullPage: true });
          const wide = await page.evaluate(() => document.documentElement.scrollWidth);
          if (wide > width) failures.push(`${entry.name} (${scheme}) is ${wide} px wide at ${width} px`);
        }
      }
      await page.close();
    }
    await context.close();
    await anonymous.close();
  }
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`${runs} runs of axe-core (WCAG 2.1 A and AA) over ${pages.length} page types, light and dark: no violations`);
