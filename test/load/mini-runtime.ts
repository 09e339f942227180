/**
 * Loads a mini-program the way WeChat's runtime will, to catch in the suite what would otherwise
 * only fail when someone opens DevTools:
 *
 * - every `.ts` is compiled on its own, as DevTools' TypeScript plugin does (no bundling, no
 *   tsconfig `paths`), so an import only the type checker could follow stays a `require`;
 * - modules run in one fresh JS context with WeChat's globals (wx, App, Page, Component,
 *   Behavior, getApp, getCurrentPages) and none of Node's (no process, Buffer, global, setImmediate);
 * - `require` resolves as the runtime does: relative paths inside the mini-program root (a `.js`
 *   is implied), package names only through `miniprogram_npm` folders from the requiring file up
 *   to the root; nothing else (no Node built-ins, no node_modules, nothing above the root);
 * - app.ts, then every page of app.json, then every component they use (Vant's included) is
 *   loaded, and each must register exactly once with the right constructor, without throwing.
 */
import fs from 'fs';
import path from 'path';
import vm from 'vm';
import ts from 'typescript';

export interface LoadProblem {
  /** The module (root-relative, `.js`) or entry the problem is in. */
  file: string;
  message: string;
}

export interface LoadReport {
  problems: LoadProblem[];
  /** Entries that registered, by kind, root-relative without extension. */
  registered: { app: string[]; pages: string[]; components: string[] };
  /** Every module that ran, root-relative. */
  modules: string[];
  /** wx API calls made while loading, by name (e.g. how many privacy listeners were registered). */
  wxCalls: Record<string, number>;
}

type Registration = 'App' | 'Page' | 'Component';

/** Node's globals, which the mini-program runtime does not have. */
const NODE_GLOBALS = new Set(['process', 'Buffer', 'global', '__dirname', '__filename', 'setImmediate', 'clearImmediate']);

/**
 * Node globals a module's own code refers to, even in functions that loading does not run.
 * A name the file declares itself (a variable, a parameter) is not the global.
 */
function nodeGlobalsUsed(fileName: string, source: string): string[] {
  const sourceFile = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2020, true);
  const declared = new Set<string>();
  const used = new Set<string>();
  const visit = (node: ts.Node) => {
    const named = node as ts.Node & { name?: ts.Node };
    if ((ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isFunctionDeclaration(node)) && named.name && ts.isIdentifier(named.name)) {
      declared.add(named.name.text);
    }
    if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text)) {
      const parent = node.parent;
      const isMemberName = (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node);
      if (!isMemberName) used.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return [...used].filter((name) => !declared.has(name));
}

const posix = path.posix;

/** The compiler options DevTools' TypeScript plugin works with: CommonJS out, one file in. */
const DEVTOOLS_TS: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2020,
  esModuleInterop: true,
};

/** Every file under `root`, root-relative with forward slashes. */
function listFiles(root: string, dir = '', out: string[] = []): string[] {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) listFiles(root, rel, out);
    else out.push(rel);
  }
  return out;
}

/** A `wx` whose every API exists and does nothing, except the few the app reads while loading. */
function fakeWx(calls: Record<string, number>): unknown {
  const systemInfo = { platform: 'devtools', environment: '', SDKVersion: '3.6.0', windowWidth: 375, windowHeight: 667, pixelRatio: 2 };
  const known: Record<string, (...args: unknown[]) => unknown> = {
    getAccountInfoSync: () => ({ miniProgram: { appId: 'touristappid', envVersion: 'develop', version: '' } }),
    getSystemInfoSync: () => systemInfo,
    getWindowInfo: () => systemInfo,
    getDeviceInfo: () => systemInfo,
    getAppBaseInfo: () => systemInfo,
    canIUse: () => true,
    getStorageSync: () => '',
  };
  return new Proxy(
    {},
    {
      get(_target, name) {
        if (typeof name !== 'string') return undefined;
        return (...args: unknown[]) => {
          calls[name] = (calls[name] || 0) + 1;
          return known[name] ? known[name](...args) : undefined;
        };
      },
    },
  );
}

/** An error from either realm (the sandbox's errors are not this realm's Error instances). */
function errorText(error: unknown): string {
  const e = error as { name?: unknown; message?: unknown } | null;
  return e && typeof e.message === 'string' ? `${String(e.name)}: ${e.message}` : String(error);
}

export function loadMiniProgram(root: string): LoadReport {
  const problems: LoadProblem[] = [];
  const report: LoadReport = { problems, registered: { app: [], pages: [], components: [] }, modules: [], wxCalls: {} };
  const files = listFiles(root);
  const present = new Set(files);

  // Compile every .ts on its own; a .ts wins over a stale .js beside it, as in DevTools.
  const sources = new Map<string, string>();
  for (const file of files.filter((f) => f.endsWith('.js'))) sources.set(file, fs.readFileSync(path.join(root, file), 'utf8'));
  for (const file of files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
    const result = ts.transpileModule(fs.readFileSync(path.join(root, file), 'utf8'), {
      compilerOptions: DEVTOOLS_TS,
      fileName: file,
      reportDiagnostics: true,
    });
    for (const d of result.diagnostics || []) problems.push({ file, message: `does not compile: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}` });
    for (const name of nodeGlobalsUsed(file, result.outputText)) problems.push({ file, message: `uses Node's global \`${name}\`, which the mini-program runtime does not have` });
    sources.set(file.replace(/\.ts$/, '.js'), result.outputText);
  }

  // What the module being registered called; checked after it ran.
  let registering: { file: string; calls: Registration[] } | null = null;
  const register = (kind: Registration) => () => {
    if (registering) registering.calls.push(kind);
    else problems.push({ file: '(runtime)', message: `${kind}() called outside module loading` });
  };
  const sandbox: Record<string, unknown> = {
    wx: fakeWx(report.wxCalls),
    App: register('App'),
    Page: register('Page'),
    Component: register('Component'),
    Behavior: (definition: unknown) => definition,
    getApp: () => ({ globalData: {} }),
    getCurrentPages: () => [],
    requirePlugin: () => {
      throw new Error('requirePlugin: no plugins are declared');
    },
    console,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
  };
  const context = vm.createContext(sandbox, { name: 'mini-program' });

  const cache = new Map<string, { exports: unknown }>();

  function resolve(from: string, request: string): string {
    if (request.startsWith('/')) throw new Error(`require("${request}"): an absolute path; WeChat's require takes paths relative to the file`);
    const candidates: string[] = [];
    if (request.startsWith('./') || request.startsWith('../')) {
      const target = posix.normalize(posix.join(posix.dirname(from), request));
      if (target.startsWith('../') || target === '..') throw new Error(`require("${request}") reaches outside the mini-program root`);
      candidates.push(target, `${target}.js`);
    } else {
      // A package: only a miniprogram_npm folder on the way from this file up to the root has it.
      for (let dir = posix.dirname(from); ; dir = posix.dirname(dir)) {
        const base = dir === '.' ? `miniprogram_npm/${request}` : `${dir}/miniprogram_npm/${request}`;
        candidates.push(base, `${base}.js`, `${base}/index.js`);
        if (dir === '.') break;
      }
    }
    const found = candidates.find((c) => c.endsWith('.js') && sources.has(c));
    if (!found) throw new Error(`require("${request}") resolves to nothing the mini-program runtime can load (tried ${candidates.join(', ')})`);
    return found;
  }

  function requireModule(file: string): unknown {
    const cached = cache.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} as unknown };
    cache.set(file, module);
    report.modules.push(file);
    const wrapped = `(function (require, module, exports) {${sources.get(file)}\n})`;
    const fn = vm.runInContext(wrapped, context, { filename: file }) as (r: unknown, m: unknown, e: unknown) => void;
    fn((request: string) => requireModule(resolve(file, request)), module, module.exports);
    return module.exports;
  }

  /** Runs an entry's module and checks it registered exactly once, as `expected`. */
  function loadEntry(base: string, expected: Registration[], kind: keyof LoadReport['registered']) {
    const file = `${base}.js`;
    if (!sources.has(file)) {
      problems.push({ file: base, message: 'has no .ts or .js' });
      return;
    }
    if (cache.has(file)) return;
    registering = { file, calls: [] };
    try {
      requireModule(file);
      const { calls } = registering;
      if (calls.length !== 1 || !expected.includes(calls[0])) {
        problems.push({ file, message: `registered ${calls.length ? calls.join(', ') : 'nothing'}; expected exactly one ${expected.join(' or ')}()` });
      } else {
        report.registered[kind].push(base);
      }
    } catch (error) {
      problems.push({ file, message: `throws while loading: ${errorText(error)}` });
    } finally {
      registering = null;
    }
  }

  /** The component paths a page or component's json uses, root-relative without extension. */
  function usedComponents(base: string): string[] {
    const jsonFile = `${base}.json`;
    if (!present.has(jsonFile)) return [];
    const json = JSON.parse(fs.readFileSync(path.join(root, jsonFile), 'utf8')) as { usingComponents?: Record<string, string> };
    return Object.values(json.usingComponents || {}).flatMap((target) => {
      if (target.startsWith('plugin://')) return [];
      if (target.startsWith('/')) return [target.slice(1)];
      if (target.startsWith('.')) return [posix.normalize(posix.join(posix.dirname(base), target))];
      for (let dir = posix.dirname(base); ; dir = posix.dirname(dir)) {
        const candidate = dir === '.' ? `miniprogram_npm/${target}` : `${dir}/miniprogram_npm/${target}`;
        if (present.has(`${candidate}.json`)) return [candidate];
        if (dir === '.') break;
      }
      problems.push({ file: jsonFile, message: `usingComponents "${target}" is not in any miniprogram_npm` });
      return [];
    });
  }

  const app = JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8')) as { pages?: string[]; usingComponents?: Record<string, string> };
  loadEntry('app', ['App'], 'app');
  const seen = new Set<string>();
  const queue = [...usedComponents('app')];
  for (const page of app.pages || []) {
    loadEntry(page, ['Page', 'Component'], 'pages');
    queue.push(...usedComponents(page));
  }
  while (queue.length) {
    const component = queue.shift() as string;
    if (seen.has(component)) continue;
    seen.add(component);
    loadEntry(component, ['Component'], 'components');
    queue.push(...usedComponents(component));
  }

  // Modules no entry reaches still have to load on their own (they may be reached later).
  for (const file of files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
    const js = file.replace(/\.ts$/, '.js');
    if (cache.has(js)) continue;
    try {
      requireModule(js);
    } catch (error) {
      problems.push({ file: js, message: `throws while loading: ${errorText(error)}` });
    }
  }
  return report;
}
