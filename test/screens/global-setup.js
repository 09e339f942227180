/**
 * Jest global setup of the `screens` project: one Chromium for every screen of the run. Without
 * Chromium or its fonts the screens are skipped with the reason, unless REQUIRE_CHROMIUM=1 (set by
 * .ci/run), where the run fails instead.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');
const { CHROMIUM, INSTALL_HINT, LAUNCH_ARGS, missingPrerequisites } = require('./chromium');

module.exports = async function setup() {
  const missing = missingPrerequisites();
  if (missing.length) {
    const reason = `${missing.join('; ')} (${INSTALL_HINT}; CI sets REQUIRE_CHROMIUM=1)`;
    if (process.env.REQUIRE_CHROMIUM === '1') throw new Error(`REQUIRE_CHROMIUM=1 but ${reason}`);
    process.env.SCREENS_SKIP = reason;
    // Jest does not print the console of a file whose tests are all skipped: say it here.
    console.warn(`\nSkipping the screens' layout checks: ${reason}`);
    return;
  }
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  globalThis.__SCREENS_BROWSER__ = browser;
  // Workers start after this and inherit the environment: how they find the browser.
  process.env.SCREENS_BROWSER_WS = browser.wsEndpoint();
  process.env.SCREENS_RUN_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'screens-'));
};
