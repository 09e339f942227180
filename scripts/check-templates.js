#!/usr/bin/env node
/**
 * Checks what WeChat DevTools would reject before anyone opens it:
 *  - every .wxml and .wxss under miniprogram/ (outside miniprogram_npm) compiles with WeChat's own
 *    wcc / wcsc, the Linux/macOS/Windows binaries shipped in the miniprogram-compiler package;
 *  - every page in app.json exists, and every usingComponents entry (app.json, pages, components)
 *    resolves as DevTools resolves it to a real component: .json with "component": true, .wxml,
 *    and .js or .ts;
 *  - every privacy consent button names its native id: WeChat's onNeedPrivacyAuthorization resolve
 *    must quote the id of the native <button> that was tapped, and on a <van-button> only
 *    `button-id` reaches it (its `id` stays on Vant's host element);
 *  - tab bar icons exist and stay within WeChat's 40 KB limit.
 * Each problem is printed with the file it is in; the exit code is 1 when there is any.
 *
 * Usage: node scripts/check-templates.js [miniprogram root, default ./miniprogram]
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const repo = path.resolve(__dirname, '..');
// The command line is this script's only when it is run, not required (test/screens/wxss.ts).
const root = path.resolve((require.main === module && process.argv[2]) || path.join(repo, 'miniprogram'));
const problems = [];
const rel = (file) => path.relative(repo, file) || file;
const report = (file, message) => problems.push(`${rel(file)}: ${message}`);

/** The path of miniprogram-compiler's `wcc` or `wcsc` for this platform, made executable. */
function compilerBinary(name) {
  const pkg = path.dirname(require.resolve('miniprogram-compiler/package.json', { paths: [repo] }));
  const platform = { darwin: 'mac', linux: 'linux', win32: 'windows' }[process.platform];
  if (!platform) throw new Error(`miniprogram-compiler ships no ${name} for ${process.platform}`);
  const binary = path.join(pkg, 'bin', platform, platform === 'windows' ? `${name}.exe` : name);
  if (platform !== 'windows') {
    // npm does not keep the executable bit of these files (and may skip install scripts).
    try {
      fs.accessSync(binary, fs.constants.X_OK);
    } catch {
      fs.chmodSync(binary, 0o755);
    }
  }
  return binary;
}

/** Source files of the mini-program, not the built npm packages. */
function walk(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'miniprogram_npm' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

/** Consent buttons without the id WeChat's privacy resolve has to name. */
function checkPrivacyButtons(file) {
  const source = fs.readFileSync(file, 'utf8');
  const tags = source.matchAll(/<([a-z][\w-]*)\b([^>]*?\bopen-type="agreePrivacyAuthorization"[^>]*)>/g);
  for (const [, tag, attributes] of tags) {
    const line = source.slice(0, source.indexOf(attributes)).split('\n').length;
    if (tag === 'van-button' && !/\sbutton-id="[^"]+"/.test(attributes)) {
      report(file, `line ${line}: <van-button open-type="agreePrivacyAuthorization"> needs button-id (its id never reaches the native button)`);
    } else if (tag === 'button' && !/\sid="[^"]+"/.test(attributes)) {
      report(file, `line ${line}: <button open-type="agreePrivacyAuthorization"> needs an id for the privacy resolve to name`);
    }
  }
}

const TAB_ICON_MAX_BYTES = 40 * 1024;

function compile(binary, args, file) {
  // Paths relative to the root, as DevTools passes them, so <import>/<include> resolve the same way.
  const result = spawnSync(binary, [...args, path.relative(root, file)], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const detail = (result.stderr || result.stdout || '').trim();
    report(file, `${path.basename(binary)} failed (exit ${result.status})${detail ? `\n    ${detail.split('\n').join('\n    ')}` : ''}`);
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    report(file, `invalid JSON: ${error.message}`);
    return null;
  }
}

const exists = (file) => fs.existsSync(file) && fs.statSync(file).isFile();
const hasLogic = (base) => exists(`${base}.ts`) || exists(`${base}.js`);

/** Candidate paths for a usingComponents value, in DevTools' order. */
function candidates(fromDir, target) {
  if (target.startsWith('/')) return [path.join(root, target)];
  const list = [path.resolve(fromDir, target)];
  if (!target.startsWith('.')) {
    // An npm path: the nearest miniprogram_npm from the json's folder up to the root.
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
      list.push(path.join(dir, 'miniprogram_npm', target));
      if (dir === root || !dir.startsWith(root)) break;
    }
  }
  return list.flatMap((base) => [base, path.join(base, 'index')]);
}

function checkComponentRef(jsonFile, tag, target) {
  if (typeof target !== 'string' || !target) return report(jsonFile, `usingComponents "${tag}" has no path`);
  if (target.startsWith('plugin://')) return;
  const base = candidates(path.dirname(jsonFile), target).find((b) => exists(`${b}.json`));
  if (!base) {
    const hint = target.startsWith('.') || target.startsWith('/') ? '' : ' (is miniprogram_npm built? run `npm run build:npm`)';
    return report(jsonFile, `usingComponents "${tag}": "${target}" resolves to no component${hint}`);
  }
  const json = readJson(`${base}.json`);
  const missing = [];
  if (json && json.component !== true) missing.push('"component": true in its .json');
  if (!exists(`${base}.wxml`)) missing.push('.wxml');
  if (!hasLogic(base)) missing.push('.js or .ts');
  if (missing.length) report(jsonFile, `usingComponents "${tag}": ${rel(base)} lacks ${missing.join(', ')}`);
}

function checkUsingComponents(jsonFile, json) {
  for (const [tag, target] of Object.entries((json && json.usingComponents) || {})) checkComponentRef(jsonFile, tag, target);
}

function main() {
  if (!fs.existsSync(root)) throw new Error(`no mini-program at ${root}`);
  const files = walk(root);
  const wcc = compilerBinary('wcc');
  const wcsc = compilerBinary('wcsc');
  const wxml = files.filter((f) => f.endsWith('.wxml'));
  const wxss = files.filter((f) => f.endsWith('.wxss'));
  for (const file of wxml) compile(wcc, ['-d'], file);
  for (const file of wxml) checkPrivacyButtons(file);
  for (const file of wxss) compile(wcsc, ['-db'], file);

  const appJsonFile = path.join(root, 'app.json');
  const app = readJson(appJsonFile);
  if (app) {
    checkUsingComponents(appJsonFile, app);
    for (const page of app.pages || []) {
      const base = path.join(root, page);
      const missing = [!exists(`${base}.wxml`) && '.wxml', !hasLogic(base) && '.js or .ts'].filter(Boolean);
      if (missing.length) report(appJsonFile, `page "${page}" lacks ${missing.join(', ')}`);
    }
    for (const item of (app.tabBar && app.tabBar.list) || []) {
      if (!(app.pages || []).includes(item.pagePath)) report(appJsonFile, `tabBar page "${item.pagePath}" is not in "pages"`);
      for (const icon of [item.iconPath, item.selectedIconPath].filter(Boolean)) {
        const iconFile = path.join(root, icon);
        if (!exists(iconFile)) report(appJsonFile, `tabBar icon "${icon}" does not exist`);
        else if (fs.statSync(iconFile).size > TAB_ICON_MAX_BYTES) report(appJsonFile, `tabBar icon "${icon}" is over WeChat's 40 KB limit`);
      }
    }
  }
  const componentJsons = files.filter((f) => f.endsWith('.json') && f !== appJsonFile && exists(f.replace(/\.json$/, '.wxml')));
  for (const file of componentJsons) checkUsingComponents(file, readJson(file));

  if (problems.length) {
    console.error(`check:wxml: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`check:wxml: ${wxml.length} .wxml and ${wxss.length} .wxss compile; ${componentJsons.length + 1} usingComponents lists resolve`);
}

module.exports = { compilerBinary };

if (require.main === module) main();
