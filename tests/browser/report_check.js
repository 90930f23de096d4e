// Drives amva's HTML report in Debian's headless Chromium through playwright-core (from the
// npm registry; scripts/setup.sh installs it under .cache/browser): sorts a table, reads a
// map value under the pointer, enlarges a figure, and collects console errors. Prints one
// JSON object for the C++ test to check; with --screenshots DIR, also saves 1280-px-wide
// screenshots of every section, the enlarged figure and the hover read-out.
//
// Usage: node report_check.js REPORT.html [--screenshots DIR]
// Environment: AMVA_PLAYWRIGHT (the playwright-core folder), CHROMIUM (the browser binary).
'use strict';
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..', '..');
const playwright = require(process.env.AMVA_PLAYWRIGHT ||
                           path.join(root, '.cache', 'browser', 'node_modules', 'playwright-core'));

async function main() {
  const report = path.resolve(process.argv[2]);
  const shotsAt = process.argv.indexOf('--screenshots');
  const shots = shotsAt > 0 ? path.resolve(process.argv[shotsAt + 1]) : null;
  if (shots) fs.mkdirSync(shots, {recursive: true});
  const browser = await playwright.chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const result = {console_errors: [], page_errors: []};
  try {
    const page = await browser.newPage({viewport: {width: 1280, height: 900}});
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') result.console_errors.push(m.text()); });
    page.on('pageerror', (e) => result.page_errors.push(String(e)));
    await page.goto('file://' + report, {waitUntil: 'load'});
    result.images_total = Number(await page.getAttribute('body', 'data-images-total'));
    result.images_loaded = Number(await page.getAttribute('body', 'data-images-loaded'));
    result.sections = await page.$$eval('section', (s) => s.map((x) => x.id));

    // What each section holds: its text and its figures and tables (a section can be present
    // but empty when the report lost its content).
    result.section_content = await page.$$eval('section', (s) => s.map((x) => ({
      id: x.id, text: x.textContent.replace(/\s+/g, ' ').trim().length,
      figures: x.querySelectorAll('img').length, tables: x.querySelectorAll('table').length})));

    // Sort: in the first sortable table of the inter-FIQA section, the first column whose
    // values are numbers that all differ (equal values would let a broken sort pass), twice.
    const table = page.locator('#inter table.sortable').first();
    const columnValues = (c) => table.evaluate((t, c) => Array.prototype.slice.call(t.rows, 1).map(
        (r) => parseFloat(r.cells[c].textContent)), c);
    const columns = await table.evaluate((t) => t.rows[0].cells.length);
    let sortAt = -1;
    for (let c = 0; c < columns && sortAt < 0; ++c) {
      const v = await columnValues(c);
      if (v.length >= 2 && v.every((x) => Number.isFinite(x)) && new Set(v).size === v.length) sortAt = c;
    }
    result.sort_index = sortAt;
    if (sortAt >= 0) {
      const header = table.locator('tr').first().locator('th').nth(sortAt);
      result.sort_column = (await header.textContent()).trim();
      result.before_sort = await columnValues(sortAt);
      await header.click();
      result.sorted_ascending = await columnValues(sortAt);
      await header.click();
      result.sorted_descending = await columnValues(sortAt);
    }

    // Hover: the first map of the inter-FIQA grid, at the centre of pixel (x 30, y 70).
    const grid = page.locator('#inter img[data-cells]').first();
    await grid.evaluate((e) => e.scrollIntoView({block: 'start'}));  // the first row of maps in view
    const cells = JSON.parse(await grid.getAttribute('data-cells'));
    const box = await grid.boundingBox();
    const b = cells[0].box;
    const px = 30, py = 70, size = 112;
    const x = box.x + box.width * (b[0] + (b[2] - b[0]) * (px + 0.5) / size);
    const y = box.y + box.height * (b[1] + (b[3] - b[1]) * (py + 0.5) / size);
    await page.mouse.move(x, y);
    result.hover = {pixel: [px, py], cell: cells[0].title, readout: await page.textContent('#amva-readout'),
                    visible: await page.isVisible('#amva-readout')};
    if (shots) await page.screenshot({path: path.join(shots, 'hover_readout.png'),
                                      clip: {x: 0, y: Math.max(0, y - 300), width: 1280, height: 500}});
    await page.mouse.move(1, 1);

    // Enlarge: the EDC figure opens at its own pixel size, Escape closes it.
    const edc = page.locator('#edc img.zoomable').first();
    await edc.scrollIntoViewIfNeeded();
    const inline = await edc.boundingBox();
    await edc.click();
    const big = page.locator('#amva-lightbox img');
    result.enlarge = {inline_width: inline.width, open: await page.isVisible('#amva-lightbox'),
                      shown_width: (await big.boundingBox()).width,
                      natural_width: await big.evaluate((i) => i.naturalWidth)};
    if (shots) await page.screenshot({path: path.join(shots, 'enlarged_figure.png')});
    await page.keyboard.press('Escape');
    result.enlarge.closed = !(await page.isVisible('#amva-lightbox'));

    if (shots) {
      for (const id of result.sections) {
        const s = await page.locator('#' + id).evaluate((e) => {
          const r = e.getBoundingClientRect();
          return {y: r.top + window.scrollY, height: r.height};
        });
        await page.screenshot({path: path.join(shots, 'section_' + id + '.png'), fullPage: true,
                               clip: {x: 0, y: s.y, width: 1280, height: Math.ceil(s.height)}});
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
