/**
 * The `screens` project's test environment: jsdom, where miniprogram-simulate renders the pages,
 * plus `globalThis.screens`, a narrow door to the shared Chromium. puppeteer runs here, in the
 * worker's own Node realm, because it needs Node (sockets, timers) that a jsdom test does not have.
 */
'use strict';
/* global document, window -- only inside page.evaluate callbacks, which run in the browser */

const fs = require('fs');
const path = require('path');
const { TestEnvironment } = require('jest-environment-jsdom');
const puppeteer = require('puppeteer-core');

const CHECKS = fs.readFileSync(path.join(__dirname, 'layout-checks.browser.js'), 'utf8');

class ScreensEnvironment extends TestEnvironment {
  async setup() {
    await super.setup();
    const ws = process.env.SCREENS_BROWSER_WS;
    if (!ws) {
      this.global.screens = { skipReason: process.env.SCREENS_SKIP || 'no browser was started', check: null, shoot: null };
      return;
    }
    this.browser = await puppeteer.connect({ browserWSEndpoint: ws });
    this.page = await this.browser.newPage();
    // Every asset is inlined; anything else would make the pixels depend on the network.
    const requests = [];
    await this.page.setRequestInterception(true);
    this.page.on('request', (request) => {
      if (request.url().startsWith('data:')) return request.continue();
      requests.push(request.url());
      return request.abort();
    });

    const open = async (html, device, scale) => {
      requests.length = 0;
      await this.page.setViewport({ width: device.width, height: device.height, deviceScaleFactor: scale });
      await this.page.setContent(html, { waitUntil: 'load' });
      await this.page.evaluate(async () => {
        document.body.getBoundingClientRect();
        await document.fonts.ready;
      });
    };
    this.global.screens = {
      skipReason: null,
      runDir: process.env.SCREENS_RUN_DIR,
      /**
       * The layout problems of `html` on `device`, by check, plus any network request it tried;
       * and how many tap targets and texts the checks measured.
       */
      check: async (html, device) => {
        await open(html, device, 1);
        await this.page.addScriptTag({ content: CHECKS });
        const { problems, measured } = await this.page.evaluate(() => window.__layoutCheck());
        return { problems: { ...problems, network: requests.map((url) => `requested ${url}`) }, measured };
      },
      /** A PNG of `html` on `device` at 2x, written to `file`; any network request fails it. */
      shoot: async (html, device, file) => {
        await open(html, device, 2);
        if (requests.length) throw new Error(`the screen requested ${requests.join(', ')}`);
        await this.page.screenshot({ path: file, clip: { x: 0, y: 0, width: device.width, height: device.height } });
      },
    };
  }

  async teardown() {
    if (this.page) await this.page.close();
    if (this.browser) await this.browser.disconnect();
    await super.teardown();
  }
}

module.exports = ScreensEnvironment;
