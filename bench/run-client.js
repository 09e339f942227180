#!/usr/bin/env node
// `node bench/run-client.js`: only the client half of `npm run bench` (login behaviour beside
// wafer2-client-sdk, request() CPU overhead for the source and the shipped package, package size),
// in seconds instead of minutes and without the server runs that load the CPU the overhead is
// measured on. Prints the tables; writes no file.
'use strict';
const path = require('node:path');
const { build, BUDGET_BYTES } = require('../scripts/build-auth.js');
const { runBundled } = require('./bundle.js');

const { dist, gzipBytes } = build();
const contents = `
  import { clientOverhead, loginBehaviour } from './client';
  const shipped = require(process.env.BENCH_PACKAGE_ENTRY);
  const row = (cells) => console.log('| ' + cells.join(' | ') + ' |');
  (async () => {
    console.log('packages/auth: ${gzipBytes} bytes minified + gzipped (budget ${BUDGET_BYTES})\\n');
    row(['scenario', 'client', 'wx.login', 'login requests', 'wx.request in all', 'peak in flight', 'ok / failed']);
    for (const r of await loginBehaviour()) row([r.scenario, r.client, r.wxLogin, r.loginRequests, r.wxRequests, r.peakInFlight, r.ok + ' / ' + r.failed]);
    console.log('');
    row(['code measured', 'raw wx.request µs', 'request() µs', 'overhead µs', 'ratio']);
    for (const [what, create] of [['auth service source', undefined], ['shipped package', shipped.createAuth]]) {
      const o = await clientOverhead(create);
      row([what, o.rawUs.toFixed(1), o.oursUs.toFixed(1), o.overheadUs.toFixed(1), o.ratio.toFixed(2) + 'x']);
    }
  })().catch((error) => { console.error(error); process.exit(1); });
`;
process.exit(runBundled({ contents }, 'bench-client', { env: { BENCH_PACKAGE_ENTRY: path.join(dist, 'index.js') } }));
