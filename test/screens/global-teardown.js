/**
 * Jest global teardown of the `screens` project: in preview mode (SCREENS_OUT set), removes
 * screenshots of states that no longer exist and, when every state was drawn, redraws the contact
 * sheet; then closes the browser. A run where some state failed leaves that state's screenshot and
 * the contact sheet as they were.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const CONTACT_SHEET = 'contact-sheet.png';

/**
 * What the preview run recorded in `runDir` (written by harness.ts): the whole state table, in
 * order, and which states it drew. No table when no screen file got as far as loading it.
 */
function previewRun(runDir) {
  const table = path.join(runDir, 'states.json');
  if (!fs.existsSync(table)) return null;
  const states = JSON.parse(fs.readFileSync(table, 'utf8'));
  const drawn = new Set(states.filter((s) => fs.existsSync(path.join(runDir, `${s.id}.drawn`))).map((s) => s.id));
  return { states, drawn };
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
  await page.screenshot({ path: path.join(out, CONTACT_SHEET), fullPage: true });
  await page.close();
}

module.exports = async function teardown() {
  const browser = globalThis.__SCREENS_BROWSER__;
  const runDir = process.env.SCREENS_RUN_DIR;
  const out = process.env.SCREENS_OUT;
  try {
    const run = browser && runDir && out ? previewRun(runDir) : null;
    if (run) {
      // Stale means no longer in the table, whatever this run managed to draw.
      const keep = new Set([...run.states.map((s) => `${s.id}.png`), CONTACT_SHEET]);
      for (const file of fs.readdirSync(out)) if (file.endsWith('.png') && !keep.has(file)) fs.rmSync(path.join(out, file));
      const missing = run.states.filter((s) => !run.drawn.has(s.id));
      if (missing.length) console.warn(`\npreview: ${CONTACT_SHEET} left as it was: ${missing.length} of ${run.states.length} states not drawn (${missing.map((s) => s.id).join(', ')})`);
      else await contactSheet(browser, out, run.states);
    }
  } finally {
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
    if (browser) await browser.close();
  }
};
