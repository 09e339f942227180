#!/usr/bin/env node
// `node bench/run-client.js`: only the client half of `npm run bench` (login behaviour beside
// wafer2-client-sdk, request() CPU overhead for the source and the shipped package, package size),
// in seconds instead of minutes and without the server runs that load the CPU. Built and run the
// way bench/run.js does it (esbuild bundle, plain Node). Prints the tables; writes no file.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const esbuild = require('esbuild');
const { build, BUDGET_BYTES } = require('../scripts/build-auth.js');

const OUT = path.join(__dirname, '.tmp', 'bench-client.cjs');
const { dist, gzipBytes } = build();
esbuild.buildSync({
  stdin: {
    resolveDir: __dirname,
    loader: 'ts',
    contents: `
      import { clientOverhead, loginBehaviour } from './client';
      const shipped = require(process.env.BENCH_PACKAGE_ENTRY);
      const row = (cells) => console.log('| ' + cells.join(' | ') + ' |');
      (async () => {
        console.log('package: ${gzipBytes} bytes minified + gzipped (budget ${BUDGET_BYTES})\\n');
        row(['scenario', 'client', 'wx.login', 'login requests', 'wx.request in all', 'peak in flight', 'ok / failed']);
        for (const r of await loginBehaviour()) row([r.scenario, r.client, r.wxLogin, r.loginRequests, r.wxRequests, r.peakInFlight, r.ok + ' / ' + r.failed]);
        console.log('');
        row(['code measured', 'raw wx.request µs', 'request() µs', 'overhead µs', 'ratio']);
        for (const [what, create] of [['auth service source', undefined], ['shipped package', shipped.createAuth]]) {
          const o = await clientOverhead(create);
          row([what, o.rawUs.toFixed(1), o.oursUs.toFixed(1), o.overheadUs.toFixed(1), o.ratio.toFixed(2) + 'x']);
        }
      })().catch((error) => { console.error(error); process.exit(1); });
    `,
  },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  outfile: OUT,
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, [OUT], {
  cwd: path.join(__dirname, '..'),
  stdio: 'inherit',
  env: { ...process.env, BENCH_PACKAGE_ENTRY: path.join(dist, 'index.js') },
});
process.exit(run.status === null ? 1 : run.status);
