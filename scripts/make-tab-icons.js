#!/usr/bin/env node
/**
 * Draws the tab bar's icons: 81×81 PNGs (WeChat's recommended size, shown at 27 pt on a 3x screen),
 * transparent, one Vant icon glyph each, in app.json's tabBar colours (`color` unselected,
 * `selectedColor` selected), so a change of theme colour is one re-run away. The glyphs come from
 * the pinned @vant/icons font, drawn by Debian's Chromium.
 *
 * Usage: node scripts/make-tab-icons.js   (writes miniprogram/images/tab-*.png)
 */
'use strict';
/* global document -- only inside page.evaluate callbacks, which run in the browser */

const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const SIZE = 81;
/**
 * Which Vant glyphs stand for each tab: [unselected (outline), selected (filled)]. Entries to a tab
 * inside pages use the same glyph (test/miniprogram/pages/index.test.ts checks 首页's).
 */
const GLYPHS = {
  'pages/index/index': { name: 'home', icons: ['wap-home-o', 'wap-home'] },
  'pages/profile/profile': { name: 'profile', icons: ['manager-o', 'manager'] },
};

function codepoint(icon) {
  const css = fs.readFileSync(path.join(root, 'node_modules/@vant/weapp/lib/icon/index.wxss'), 'utf8');
  const match = new RegExp(`\\.van-icon-${icon}:before\\{content:"\\\\(\\w+)"\\}`).exec(css);
  if (!match) throw new Error(`Vant has no icon "${icon}"`);
  return String.fromCodePoint(parseInt(match[1], 16));
}

function iconFont() {
  const less = fs.readFileSync(require.resolve('@vant/icons/src/encode-woff2.less', { paths: [root] }), 'utf8');
  return /url\('(data:font\/woff2;[^']+)'\)/.exec(less)[1];
}

async function main() {
  // Here, not at the top: tests read GLYPHS without loading a browser driver.
  const puppeteer = require('puppeteer-core');
  const { CHROMIUM, LAUNCH_ARGS } = require('../test/screens/chromium');
  const app = JSON.parse(fs.readFileSync(path.join(root, 'miniprogram/app.json'), 'utf8'));
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: SIZE, height: SIZE, deviceScaleFactor: 1 });
    for (const item of app.tabBar.list) {
      const glyph = GLYPHS[item.pagePath];
      if (!glyph) throw new Error(`no icon chosen for the tab ${item.pagePath}`);
      const variants = [
        { file: `images/tab-${glyph.name}.png`, icon: glyph.icons[0], color: app.tabBar.color, key: 'iconPath' },
        { file: `images/tab-${glyph.name}-active.png`, icon: glyph.icons[1], color: app.tabBar.selectedColor, key: 'selectedIconPath' },
      ];
      for (const { file, icon, color, key } of variants) {
        await page.setContent(
          `<style>@font-face{font-family:vant-icon;src:url(${iconFont()}) format("woff2")}
           html,body{margin:0;background:transparent}
           div{width:${SIZE}px;height:${SIZE}px;display:flex;align-items:center;justify-content:center;font:72px/1 vant-icon;color:${color}}</style>
           <div>${codepoint(icon)}</div>`,
          { waitUntil: 'load' },
        );
        await page.evaluate(() => document.fonts.ready);
        await page.screenshot({ path: path.join(root, 'miniprogram', file), omitBackground: true, clip: { x: 0, y: 0, width: SIZE, height: SIZE } });
        if (item[key] !== file) console.warn(`app.json: set tabBar "${item.pagePath}" ${key} to "${file}"`);
        console.log(`tab icons: ${file} (${icon}, ${color})`);
      }
    }
  } finally {
    await browser.close();
  }
}

module.exports = { GLYPHS };

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
