/**
 * Loading the real pages and components, with the real @vant/weapp, under miniprogram-simulate.
 *
 * simulate does not do DevTools' miniprogram_npm lookup, so `"van-button": "@vant/weapp/button/index"`
 * would render as an empty tag. Each vant entry is mapped to the copy `npm run build:npm` made
 * under miniprogram/miniprogram_npm, with the miniprogram folder as rootPath (the official wcc
 * compiles every template under it once per rootPath, so every test file uses this same one).
 */
import fs from 'fs';
import path from 'path';
import simulate from 'miniprogram-simulate';

export const MINIPROGRAM = path.resolve(__dirname, '../../../miniprogram');
const NPM_PREFIX = '@vant/weapp/';

/** Every vant tag used by the component and its local children, mapped to its miniprogram_npm path (the `usingComponents` load option). */
export function vantTags(componentPath: string, seen = new Set<string>(), tags: Record<string, string> = {}) {
  if (seen.has(componentPath)) return tags;
  seen.add(componentPath);
  const json = JSON.parse(fs.readFileSync(`${componentPath}.json`, 'utf8')) as { usingComponents?: Record<string, string> };
  for (const [tag, target] of Object.entries(json.usingComponents || {})) {
    if (target.startsWith(NPM_PREFIX)) {
      const mapped = `/miniprogram_npm/${target}`;
      if (tags[tag] && tags[tag] !== mapped) throw new Error(`tag <${tag}> means two vant components`);
      tags[tag] = mapped;
    } else {
      const child = target.startsWith('/') ? path.join(MINIPROGRAM, target) : path.resolve(path.dirname(componentPath), target);
      vantTags(child, seen, tags);
    }
  }
  return tags;
}

/** Loads a page or component (path relative to miniprogram/, without extension). Once per test file. */
export function load(relativePath: string): string {
  const componentPath = path.join(MINIPROGRAM, relativePath);
  if (!fs.existsSync(path.join(MINIPROGRAM, 'miniprogram_npm', '@vant', 'weapp'))) {
    throw new Error('miniprogram/miniprogram_npm is missing: run `npm run build:npm` first');
  }
  return simulate.load(componentPath, { rootPath: MINIPROGRAM, usingComponents: vantTags(componentPath) });
}

export type Rendered = ReturnType<typeof simulate.render>;
/** A node found inside a rendered tree (j-component's types leave out addEventListener). */
export type Found = NonNullable<ReturnType<Rendered['querySelector']>> & {
  addEventListener(name: string, handler: (event: { detail: unknown }) => void): void;
};

/** What mount() attached and the end of the test detaches. */
const mounted: Rendered[] = [];
// simulate's typings call it a Component; it is j-component's RootComponent, which can attach and detach.
type Attachable = { attach(parent: unknown): void; detach(): void };

/** Renders and attaches to a fresh parent, as a page would be mounted. */
export function mount(id: string, properties?: Record<string, unknown>): Rendered {
  const comp = simulate.render(id, properties);
  // test/tsconfig has no DOM lib; jsdom provides the document at run time.
  const { document } = globalThis as unknown as { document: { createElement(tag: string): unknown } };
  (comp as unknown as Attachable).attach(document.createElement('parent-wrapper'));
  mounted.push(comp);
  return comp;
}

/**
 * Detaches everything mounted, as leaving a page does: detached lifetimes run, so app-wide
 * registrations (session events, the privacy router) do not carry one test's pages into the next.
 */
export function unmountAll(): void {
  for (let comp = mounted.pop(); comp; comp = mounted.pop()) (comp as unknown as Attachable).detach();
}

/** Lets queued callbacks run: the fake network and vant's transitions answer on later turns. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Polls `check` until it stops throwing, then returns its result; fails with its last error after
 * `timeoutMs`. Vant's transitions finish on real timers (300 ms), so this waits on time, not turns.
 */
export async function waitFor<T>(check: () => T, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await tick();
  }
}

/** Text of the rendered tree, whitespace collapsed, for "the user can read X" assertions. */
export function textOf(comp: Rendered | Found): string {
  return (comp.dom?.textContent || '').replace(/\s+/g, ' ').trim();
}

/** The node at the end of a chain of selectors, each searched inside the previous component. */
export function select(comp: Rendered | Found, ...selectors: string[]): Found {
  let node = comp as Found | undefined;
  for (const selector of selectors) {
    node = node!.querySelector(selector) as Found | undefined;
    if (!node) throw new Error(`nothing matches ${selectors.join(' >> ')} (stopped at ${selector})`);
  }
  return node!;
}

export function exists(comp: Rendered | Found, ...selectors: string[]): boolean {
  try {
    select(comp, ...selectors);
    return true;
  } catch {
    return false;
  }
}

/** A WXML attribute as the template set it (j-component keeps them off the DOM). */
export function attr(node: Found, name: string): unknown {
  const found = node.toJSON().attrs.find((a) => a.name === name);
  return found ? found.value : undefined;
}

/**
 * A tap on a van-button, delivered to the native button inside it as a finger would. Selectors do
 * not cross into child components, so a button inside one is reached by a chain of selectors.
 */
export function tapButton(comp: Rendered | Found, ...selectors: string[]): void {
  select(comp, ...selectors, '.van-button').dispatchEvent('tap');
}

/**
 * Whether the van-dialog with id "van-dialog" is on screen. After a close it counts as gone only
 * once its leave transition has ended, which is when vant settles the Dialog promise.
 */
export function dialogOnScreen(comp: Rendered | Found): boolean {
  const dialog = select(comp, '#van-dialog');
  const box = dialog.dom?.querySelector('[class*="van-dialog--van-dialog"]');
  return !!dialog.data.show || !!(box && !/display:\s*none/.test(box.getAttribute('style') || ''));
}

/** Taps a button of the van-dialog with id "van-dialog", as the user answers it. */
export function answerDialog(comp: Rendered | Found, answer: 'cancel' | 'confirm'): void {
  // Cancel comes first in vant's footer when both are shown.
  const buttons = select(comp, '#van-dialog').querySelectorAll('.van-dialog__button');
  const button = buttons[answer === 'cancel' ? 0 : buttons.length - 1];
  if (!button) throw new Error('the dialog shows no buttons');
  select(button as Found, '.van-button').dispatchEvent('tap');
}

/** An event from the native button inside a van-button (open-type results such as agreeprivacyauthorization). */
export function buttonEvent(comp: Rendered | Found, selector: string, event: string, detail: object = {}): void {
  select(comp, selector, '.van-button').dispatchEvent(event, { detail });
}

/** Records a component's custom events (`triggerEvent`) by name, in order. */
export function recordEvents(comp: Rendered | Found, ...names: string[]): Record<string, unknown[]> {
  const seen: Record<string, unknown[]> = {};
  for (const name of names) {
    seen[name] = [];
    (comp as Found).addEventListener(name, (event) => seen[name].push(event.detail));
  }
  return seen;
}
