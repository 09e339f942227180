/**
 * The CSS of a rendered page, as WeChat's webview gets it: app.wxss, then every component's
 * WXSS (Vant's included, children before their parents, as miniprogram-simulate registers them),
 * each compiled by WeChat's own `wcsc` (package miniprogram-compiler).
 *
 * wcsc leaves two placeholders, filled here the way WeChat fills them:
 * - `%%HERESUFFIX%%`, where a component's class prefix goes. j-component renders a class `x` of
 *   the component registered under tag `t` as `t--x` (the page itself is `main`).
 * - `%%?28rpx?%%`, an rpx length, converted per screen width by WeChat's rule (see `rpxToPx`).
 *
 * Two quirks of this wcsc build are handled: it silently drops `:host` rules (Vant's icon and
 * loading rely on them), so `:host` is renamed to a class before compiling and turned into the
 * component's tag selector after; and it follows `@import` only for files on its command line, so
 * each file is compiled with every file it imports.
 */
import { spawnSync } from 'child_process';
import fs from 'fs';
import { createRequire } from 'module';
import os from 'os';
import path from 'path';
import { MINIPROGRAM, vantTags } from '../miniprogram/support/render';

/** A component as miniprogram-simulate registers it: its path (root-relative, no extension) and its tag. */
export interface RegisteredComponent {
  path: string;
  tag: string;
}

const HOST_CLASS = 'wcsc-host-placeholder';
/** Node's resolver (the mini-program typings give `require` WeChat's shape, which has no resolve). */
const nodeRequire = createRequire(__filename);

/**
 * The components miniprogram-simulate registers for `root`, in its order: depth first, each
 * component after everything it uses, one entry per path under the first tag it was used by.
 * The page itself comes last, as `main`.
 */
export function registeredComponents(root: string): RegisteredComponent[] {
  const overrides = vantTags(path.join(MINIPROGRAM, root));
  const seen = new Set<string>();
  const order: RegisteredComponent[] = [];
  const visit = (componentPath: string, tag: string) => {
    if (seen.has(componentPath)) return;
    seen.add(componentPath);
    const json = JSON.parse(fs.readFileSync(path.join(MINIPROGRAM, `${componentPath}.json`), 'utf8')) as { usingComponents?: Record<string, string> };
    // simulate merges the load option's tags into every component's own list.
    const using = { ...(json.usingComponents || {}), ...overrides };
    for (const [childTag, target] of Object.entries(using)) {
      const child = target.startsWith('/') ? target.slice(1) : path.posix.join(path.posix.dirname(componentPath), target);
      if (fs.existsSync(path.join(MINIPROGRAM, `${child}.json`))) visit(child, childTag);
    }
    order.push({ path: componentPath, tag });
  };
  visit(root, 'main');
  return order;
}

// The compilers are found (and made executable) as `npm run check:wxml` finds them; that script is plain JS.
const { compilerBinary } = nodeRequire('../../scripts/check-templates') as { compilerBinary(name: 'wcc' | 'wcsc'): string };
let wcsc: string | undefined;
const wcscBinary = () => (wcsc ??= compilerBinary('wcsc'));

/** A copy of every .wxss under the mini-program, `:host` renamed, for wcsc to compile from. */
let mirror: string | null = null;
function wxssMirror(): string {
  if (mirror) return mirror;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wcsc-'));
  const copy = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(MINIPROGRAM, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) copy(child);
      else if (entry.name.endsWith('.wxss')) {
        fs.mkdirSync(path.join(dir, rel), { recursive: true });
        const source = fs.readFileSync(path.join(MINIPROGRAM, child), 'utf8');
        fs.writeFileSync(path.join(dir, child), source.replace(/:host\b/g, `.${HOST_CLASS}`));
      }
    }
  };
  copy('');
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  mirror = dir;
  return dir;
}

/** `file` and everything it imports, root-relative, `file` first. */
function withImports(file: string, out: string[] = []): string[] {
  if (out.includes(file)) return out;
  out.push(file);
  const source = fs.readFileSync(path.join(MINIPROGRAM, file), 'utf8');
  for (const [, target] of source.matchAll(/@import\s+["']([^"']+)["']/g)) {
    withImports(target.startsWith('/') ? target.slice(1) : path.posix.normalize(path.posix.join(path.posix.dirname(file), target)), out);
  }
  return out;
}

const compiled = new Map<string, string>();
/** One file compiled by wcsc, placeholders left in. */
function compile(file: string): string {
  const cached = compiled.get(file);
  if (cached !== undefined) return cached;
  const result = spawnSync(wcscBinary(), withImports(file), { cwd: wxssMirror(), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`wcsc failed on ${file}: ${result.stderr || result.stdout}`);
  compiled.set(file, result.stdout);
  return result.stdout;
}

/**
 * Vant loads its icon font from a CDN at run time; the pinned @vant/icons ships the same build as a
 * data URI. Refuses a mismatch, so an upgrade of either cannot silently draw the wrong glyphs.
 */
function localIconFont(css: string): string {
  const remote = /@font-face\{[^}]*font-family:vant-icon[^}]*src:url\(\/\/at\.alicdn\.com\/t\/c\/(font_\d+_[a-z0-9]+)\.woff2[^}]*\}/.exec(css);
  if (!remote) return css;
  const iconsDir = path.dirname(nodeRequire.resolve('@vant/icons/package.json'));
  const buildName = remote[1];
  if (!fs.readFileSync(path.join(iconsDir, 'src', 'index.less'), 'utf8').includes(buildName)) {
    throw new Error(`@vant/weapp's icon font is ${buildName}, which the installed @vant/icons does not ship; pin the matching @vant/icons`);
  }
  const dataUri = /url\('(data:font\/woff2;[^']+)'\)/.exec(fs.readFileSync(path.join(iconsDir, 'src', 'encode-woff2.less'), 'utf8'));
  if (!dataUri) throw new Error('@vant/icons/src/encode-woff2.less has no woff2 data URI');
  return css.replace(remote[0], `@font-face{font-family:vant-icon;font-style:normal;font-weight:400;src:url(${dataUri[1]}) format("woff2")}`);
}

/** Tag names a component is rendered under: :host in its WXSS means these elements. */
function hostSelector(component: RegisteredComponent, all: RegisteredComponent[]): string {
  return [...new Set(all.filter((c) => c.path === component.path).map((c) => c.tag))].join(',');
}

/** The page's CSS with rpx placeholders left in (fill them per width with `fillRpx`). */
export function pageStylesheet(root: string): string {
  const components = registeredComponents(root);
  const parts = [compile('app.wxss').replace(/%%HERESUFFIX%%/g, 'main--')];
  for (const component of components) {
    const file = `${component.path}.wxss`;
    if (!fs.existsSync(path.join(MINIPROGRAM, file))) continue;
    const css = compile(file)
      .replace(new RegExp(`\\.%%HERESUFFIX%%${HOST_CLASS}\\b`, 'g'), hostSelector(component, components))
      .replace(/%%HERESUFFIX%%/g, `${component.tag}--`);
    parts.push(`/* ${file} */\n${localIconFont(css)}`);
  }
  // wcsc turns `page` into `body`; the page here is the <wx-page> that stands for the webview.
  return parts.join('\n').replace(/(^|[\s,}>+~])body(?=[\s,.{:#[>+~])/g, '$1wx-page');
}

/**
 * WeChat's rpx rule (its base library's transformRPX): scale by screen width / 750, round down
 * (with a 1e-4 nudge against float error), and never let a non-zero length vanish: it becomes
 * 1 px, or 0.5 px on an iPhone with a 2x screen, which is what these screens stand for.
 */
export function rpxToPx(rpx: number, screenWidth: number, devicePixelRatio = 2): number {
  if (rpx === 0) return 0;
  const px = Math.floor((rpx / 750) * screenWidth + 1e-4);
  if (px === 0) return devicePixelRatio === 1 ? 1 : 0.5;
  return px;
}

/** Fills wcsc's (and the serialised DOM's) `%%?Nrpx?%%` placeholders for a screen width. */
export function fillRpx(text: string, screenWidth: number): string {
  return text.replace(/%%\?(-?[\d.]+)rpx\?%%/g, (_all, n: string) => `${rpxToPx(Number(n), screenWidth)}px`);
}
