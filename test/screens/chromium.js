/**
 * The browser the screens are drawn in: Debian's Chromium, driven by puppeteer-core (nothing is
 * downloaded), with the fonts that stand in for the phone's. Shared by the jest global setup,
 * its teardown and the test environment.
 */
'use strict';

const fs = require('fs');
const { spawnSync } = require('child_process');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const INSTALL_HINT = 'apt-get install -y chromium fonts-noto-cjk fonts-noto-color-emoji';
/** Chinese text and emoji render as boxes without these. */
const REQUIRED_FONTS = ['Noto Sans CJK SC', 'Noto Color Emoji'];

/** What is missing to draw the screens; empty when everything is there. */
function missingPrerequisites() {
  const missing = [];
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
  } catch {
    missing.push(`Chromium is not installed at ${CHROMIUM}`);
  }
  const fc = spawnSync('fc-list', [':', 'family'], { encoding: 'utf8' });
  const families = fc.status === 0 ? fc.stdout : '';
  for (const font of REQUIRED_FONTS) {
    if (!families.split('\n').some((line) => line.split(',').includes(font))) missing.push(`the font "${font}" is not installed`);
  }
  return missing;
}

/** Flags that keep pixels the same from run to run on one machine. */
const LAUNCH_ARGS = [
  '--no-sandbox', // CI runs as root
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--font-render-hinting=none',
  '--disable-font-subpixel-positioning',
  '--disable-lcd-text',
  '--force-color-profile=srgb',
  '--hide-scrollbars',
  '--lang=zh-CN',
];

module.exports = { CHROMIUM, INSTALL_HINT, LAUNCH_ARGS, missingPrerequisites };
