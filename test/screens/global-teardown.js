/**
 * Jest global teardown of the `screens` project: in preview mode (SCREENS_OUT set), removes
 * screenshots of states that no longer exist and draws the contact sheet; then closes the browser.
 */
'use strict';

const fs = require('fs');
const path = require('path');

/** Every screen the run shot, in the state table's order. */
function shotsOf(runDir) {
  return fs
    .readdirSync(runDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(runDir, f), 'utf8')))
    .sort((a, b) => a.order - b.order);
}

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function contactSheet(browser, out, shots) {
  const columns = 6;
  const cells = shots.map((shot) => {
    const png = fs.readFileSync(path.join(out, `${shot.id}.png`)).toString('base64');
    return `<figure><img src="data:image/png;base64,${png}"><figcaption>${escape(shot.title)}</figcaption></figure>`;
  });
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>
    body { margin: 0; padding: 24px; background: #e9eaec; font: 13px/1.4 'Noto Sans CJK SC', sans-serif; color: #323233; width: ${columns * 210 - 18}px; }
    main { display: grid; grid-template-columns: repeat(${columns}, 188px); gap: 22px; }
    figure { margin: 0; }
    img { display: block; width: 188px; height: auto; border-radius: 10px; box-shadow: 0 1px 4px rgba(0,0,0,.2); }
    figcaption { margin-top: 6px; text-align: center; }
  </style></head><body><main>${cells.join('')}</main></body></html>`;
  const page = await browser.newPage();
  await page.setViewport({ width: columns * 210 + 30, height: 600, deviceScaleFactor: 1 });
  await page.setContent(html, { waitUntil: 'load' });
  await page.screenshot({ path: path.join(out, 'contact-sheet.png'), fullPage: true });
  await page.close();
}

module.exports = async function teardown() {
  const browser = globalThis.__SCREENS_BROWSER__;
  const runDir = process.env.SCREENS_RUN_DIR;
  const out = process.env.SCREENS_OUT;
  try {
    if (browser && runDir && out) {
      const shots = shotsOf(runDir);
      const keep = new Set([...shots.map((s) => `${s.id}.png`), 'contact-sheet.png']);
      for (const file of fs.readdirSync(out)) if (file.endsWith('.png') && !keep.has(file)) fs.rmSync(path.join(out, file));
      if (shots.length) await contactSheet(browser, out, shots);
    }
  } finally {
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
    if (browser) await browser.close();
  }
};
