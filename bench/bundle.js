// Bundles a benchmark entry with esbuild and runs it under plain Node. Plain Node rather than tsx:
// tsx compiles with keepNames, which wraps every closure the client makes per request and would
// add tens of microseconds that no mini-program pays.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const esbuild = require('esbuild');

const ROOT = path.join(__dirname, '..');

/**
 * `entry` is a file, or `{ contents }` written in bench/. Returns the exit status (1 when killed).
 * Dependencies stay external: they load from node_modules as the tests load them.
 */
function runBundled(entry, name, { nodeArgs = [], env = {} } = {}) {
  const outfile = path.join(__dirname, '.tmp', `${name}.cjs`);
  esbuild.buildSync({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { ...entry, resolveDir: __dirname, loader: 'ts' } }),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  const run = spawnSync(process.execPath, [...nodeArgs, outfile], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  return run.status === null ? 1 : run.status;
}

module.exports = { runBundled };
