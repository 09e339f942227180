#!/usr/bin/env node
/**
 * What WeChat DevTools' "build npm" does for this project, without DevTools: for every root
 * `dependency` that names its mini-program folder in `"miniprogram"`, copy that folder to
 * `miniprogram/miniprogram_npm/<name>/`. For such packages DevTools' output is a plain copy
 * (byte-identical), so a copy is what we make: real files, never symlinks, because DevTools and
 * miniprogram-simulate both read the tree as files inside the mini-program root.
 *
 * It synchronises rather than rebuilds: files whose size and mtime already match are left alone,
 * files no longer in the source are deleted, and packages no longer in `dependencies` are removed.
 * Running it twice changes nothing the second time, and an up-to-date tree costs a few stats.
 *
 * Usage: node scripts/build-npm.js [--quiet] [--project DIR]
 */
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
  console.error(`build:npm: ${message}`);
  process.exit(1);
}

/** The folder DevTools would copy for one dependency of the project at `root`. */
function sourceFolder(root, name) {
  let manifestPath;
  try {
    manifestPath = require.resolve(`${name}/package.json`, { paths: [root] });
  } catch {
    fail(`dependency "${name}" is not installed; run \`npm ci\` first`);
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  if (!manifest.miniprogram) {
    // DevTools would bundle the package's `main` into one file; no dependency here needs that.
    fail(`dependency "${name}" has no "miniprogram" field; this script only copies mini-program packages`);
  }
  const folder = path.join(path.dirname(manifestPath), manifest.miniprogram);
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    fail(`"${name}" names "${manifest.miniprogram}" as its mini-program folder, but ${folder} is not a directory`);
  }
  return folder;
}

/** Makes `to` an exact copy of directory `from`, counting what it did in `stats`. */
function sync(from, to, stats) {
  const existing = fs.lstatSync(to, { throwIfNoEntry: false });
  if (existing && !existing.isDirectory()) {
    fs.rmSync(to, { recursive: true, force: true });
  }
  fs.mkdirSync(to, { recursive: true });

  const wanted = new Set();
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    wanted.add(entry.name);
    const src = path.join(from, entry.name);
    const dest = path.join(to, entry.name);
    const srcStat = fs.statSync(src);
    if (srcStat.isDirectory()) {
      sync(src, dest, stats);
      continue;
    }
    const destStat = fs.lstatSync(dest, { throwIfNoEntry: false });
    if (destStat && destStat.isFile() && destStat.size === srcStat.size && Math.abs(destStat.mtimeMs - srcStat.mtimeMs) < 1) {
      stats.unchanged++;
      continue;
    }
    if (destStat) fs.rmSync(dest, { recursive: true, force: true });
    fs.copyFileSync(src, dest);
    // Same mtime as the source (to the millisecond utimes keeps): how the next run knows it is current.
    fs.utimesSync(dest, srcStat.atime, srcStat.mtime);
    stats.copied++;
  }
  for (const name of fs.readdirSync(to)) {
    if (!wanted.has(name)) {
      fs.rmSync(path.join(to, name), { recursive: true, force: true });
      stats.removed++;
    }
  }
}

/**
 * Builds `<root>/miniprogram/miniprogram_npm` from the root project's dependencies (or another
 * project laid out like it). Exits the process on a missing or unusable dependency.
 */
function buildNpm({ root = path.resolve(__dirname, '..'), quiet = false } = {}) {
  const outDir = path.join(root, 'miniprogram', 'miniprogram_npm');
  const stats = { copied: 0, removed: 0, unchanged: 0 };
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const names = Object.keys(manifest.dependencies || {});
  const started = Date.now();

  for (const name of names) {
    sync(sourceFolder(root, name), path.join(outDir, name), stats);
  }

  // Packages dropped from `dependencies` must not linger (DevTools regenerates the folder too).
  if (fs.existsSync(outDir)) {
    const keep = new Set(names.map((name) => name.split('/')[0]));
    for (const top of fs.readdirSync(outDir)) {
      const topPath = path.join(outDir, top);
      if (!keep.has(top)) {
        fs.rmSync(topPath, { recursive: true, force: true });
        stats.removed++;
      } else if (top.startsWith('@')) {
        const scoped = new Set(names.filter((n) => n.startsWith(`${top}/`)).map((n) => n.slice(top.length + 1)));
        for (const sub of fs.readdirSync(topPath)) {
          if (!scoped.has(sub)) {
            fs.rmSync(path.join(topPath, sub), { recursive: true, force: true });
            stats.removed++;
          }
        }
      }
    }
  }

  if (!quiet) {
    console.log(
      `build:npm: ${names.join(', ') || '(no dependencies)'} -> ${path.relative(root, outDir)} ` +
        `(${stats.copied} copied, ${stats.removed} removed, ${stats.unchanged} unchanged, ${Date.now() - started} ms)`,
    );
  }
}

module.exports = { buildNpm };

if (require.main === module) {
  // --project DIR builds another mini-program project laid out like this one (the package test's consumer).
  const projectArg = process.argv.indexOf('--project');
  buildNpm({ root: projectArg > 0 ? path.resolve(process.argv[projectArg + 1]) : undefined, quiet: process.argv.includes('--quiet') });
}
