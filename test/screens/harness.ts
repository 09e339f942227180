/**
 * Runs the state table (./states.ts) for one page: renders each state with the real page and the
 * real Vant under miniprogram-simulate, serialises it with the page's compiled WXSS, and hands it
 * to Chromium (./environment.js) to be measured at 320, 375 and 414 px (the layout checks) or,
 * with SCREENS_OUT set (`npm run preview`), drawn at 375 px @2x into that folder.
 *
 * One page per test file: miniprogram-simulate can load a component path once per file.
 */
import fs from 'fs';
import path from 'path';
import { load, mount, waitFor } from '../miniprogram/support/render';
import { DEVICES, screenDocument, type Device, type Snapshot } from './document';
import { serialize } from './serialize';
import { resolveImage } from './stand-ins';
import { SCREEN_STATES, type ScreenPage, type ScreenState } from './states';
import { pageStylesheet } from './wxss';

export type Problems = Record<'overflow' | 'clipped' | 'overlap' | 'fullWidth' | 'tapSize' | 'tabBar' | 'homeIndicator' | 'network', string[]>;
/** What the layout checks (./layout-checks.browser.js) answer for one screen. */
export interface LayoutCheck {
  problems: Problems;
  /** Tap targets whose size was checked and text nodes checked for overlap: what the user meets. */
  measured: { tapTargets: number; texts: number };
}
export interface ScreensApi {
  skipReason: string | null;
  runDir: string;
  check: (html: string, device: Device) => Promise<LayoutCheck>;
  shoot: (html: string, device: Device, file: string) => Promise<void>;
}

export const NO_PROBLEMS: Problems = { overflow: [], clipped: [], overlap: [], fullWidth: [], tapSize: [], tabBar: [], homeIndicator: [], network: [] };
export const LAYOUT_WIDTHS = [320, 375, 414];
const PREVIEW_WIDTH = 375;

/**
 * j-component writes rpx in inline styles as px, one to one. Keep WXSS's own placeholder instead,
 * so inline rpx lengths are converted per width with the stylesheet's (WeChat's) rule.
 */
function keepRpxInInlineStyles(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very module object j-component calls through
  const utils = require('j-component/src/tool/utils') as { transformRpx(style: string): string };
  utils.transformRpx = (style) => style.replace(/(-?\d+(?:\.\d+)?)rpx/gi, '%%?$1rpx?%%');
}

/** What WeChat calls on a page as it opens. */
function openPage(page: ReturnType<typeof mount>): void {
  const instance = page.instance as unknown as { onLoad?: (query: object) => unknown; onShow?: () => unknown };
  instance.onLoad?.({});
  instance.onShow?.();
}

/** A class Vant's transitions put on an element that is on its way in or out, not yet where it ends. */
const MOVING = /(^|\s)[\w-]+-(enter|leave|leave-to)(\s|$)/;
/** An element Vant hid at the end of its leave transition: it keeps the leave classes, out of sight. */
const HIDDEN = /display:\s*none/;

/**
 * Waits for Vant's transitions (popups, overlays, dialogs) to reach their end state. In jsdom no
 * transitionend ever fires; Vant's own timer fallback finishes them after their duration.
 */
function transitionsSettled(page: ReturnType<typeof mount>): Promise<void> {
  // test/tsconfig has no DOM lib; this is jsdom's element.
  const dom = page.dom as unknown as { querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }> };
  return waitFor(() => {
    const moving = Array.from(dom.querySelectorAll('[class]')).find((el) => MOVING.test(el.getAttribute('class') || '') && !HIDDEN.test(el.getAttribute('style') || ''));
    if (moving) throw new Error(`still moving: ${moving.getAttribute('class')}`);
  });
}

async function capture(state: ScreenState, componentId: string, css: string): Promise<Snapshot> {
  await state.before?.();
  const page = mount(componentId);
  openPage(page);
  await state.drive(page);
  await transitionsSettled(page);
  return { id: state.id, title: state.title, page: state.page, css, html: serialize(page.dom, resolveImage) };
}

/**
 * How a preview run tells the global teardown (./global-teardown.js, which reads these names) what
 * it drew: the whole state table, and a `<id>.drawn` file per state once its screenshot is
 * written. Screenshots of states missing from the table are stale; a state that failed keeps its
 * committed screenshot, and the contact sheet is redrawn only when every state was drawn.
 */
const STATE_TABLE = 'states.json';
const DRAWN = '.drawn';

function writeStateTable(runDir: string): void {
  const file = path.join(runDir, STATE_TABLE);
  // Every test file writes the same table, maybe at once: each whole, then renamed into place.
  const partial = `${file}.${process.pid}`;
  fs.writeFileSync(partial, JSON.stringify(SCREEN_STATES.map(({ id, title }) => ({ id, title }))));
  fs.renameSync(partial, file);
}

export function screensOf(pageName: ScreenPage): void {
  const screens = (globalThis as unknown as { screens: ScreensApi }).screens;
  const states = SCREEN_STATES.filter((s) => s.page === pageName);
  if (screens.skipReason) {
    console.log(`Skipping the screens of ${pageName}: ${screens.skipReason}`);
    describe.skip(pageName, () => states.forEach((s) => test(s.title, () => undefined)));
    return;
  }
  keepRpxInInlineStyles();
  const componentId = load(pageName);
  const css = pageStylesheet(pageName);
  const out = process.env.SCREENS_OUT;
  if (out) writeStateTable(screens.runDir);

  describe(pageName, () => {
    for (const state of states) {
      if (out) {
        test(`${state.title}: ${state.id}.png`, async () => {
          const snapshot = await capture(state, componentId, css);
          const device = DEVICES[PREVIEW_WIDTH];
          await screens.shoot(screenDocument(snapshot, device), device, path.join(out, `${state.id}.png`));
          fs.writeFileSync(path.join(screens.runDir, `${state.id}${DRAWN}`), '');
        });
        continue;
      }
      describe(state.title, () => {
        // Rendered once, in whichever width's test runs first (the fakes exist only inside a test).
        let snapshot: Promise<Snapshot> | undefined;
        test.each(LAYOUT_WIDTHS)('at %i px, measured on its text and tap targets: no overflow, clipped or overlapping text, full-width buttons, 44 px targets, nothing under the tab bar or the home indicator', async (width) => {
          snapshot ??= capture(state, componentId, css);
          const device = DEVICES[width];
          const { problems, measured } = await screens.check(screenDocument(await snapshot, device), device);
          expect(problems).toEqual(NO_PROBLEMS);
          // Checks that met nothing prove nothing (say, if data-tap marking stopped): every screen has text, and tap targets unless it says why not.
          expect({ texts: measured.texts > 0, tapTargets: measured.tapTargets > 0 }).toEqual({ texts: true, tapTargets: !state.nothingToTap });
        });
      });
    }
  });
}
