#!/usr/bin/env node
/**
 * `npm run preview`: every state of every screen (test/screens/states.ts) drawn in Chromium at
 * 375 px @2x into docs/screenshots/, plus contact-sheet.png. It runs the `screens` jest project
 * in preview mode, so the screens are rendered by the same code as the layout checks.
 *
 * Needs Debian's chromium, fonts-noto-cjk and fonts-noto-color-emoji (fails with that message
 * otherwise). Same commit, same machine: same pixels.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'docs', 'screenshots');
fs.mkdirSync(out, { recursive: true });

const started = Date.now();
const jest = require.resolve('jest/bin/jest', { paths: [root] });
const result = spawnSync(process.execPath, [jest, '--selectProjects', 'screens', '--ci', '--silent'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SCREENS_OUT: out, REQUIRE_CHROMIUM: '1' },
});
if (result.status !== 0) process.exit(result.status || 1);

const shots = fs.readdirSync(out).filter((f) => f.endsWith('.png'));
console.log(`preview: ${shots.length - 1} screens and contact-sheet.png in ${path.relative(root, out)}/ (${((Date.now() - started) / 1000).toFixed(1)} s)`);
