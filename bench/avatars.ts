/**
 * `npx tsx bench/avatars.ts`: what checking and re-encoding an avatar costs (server/avatar-image.ts),
 * for ordinary avatars, the largest image the budget lets through, and the audit's bomb, which must
 * cost next to nothing. Each case runs in a fresh process, so that its peak memory is its own: the
 * figure is the peak resident set above what the process held before the first decode (sharp
 * loaded and warmed up on a 2 × 2 image; the upload is made beforehand, by the parent, and read
 * from a file). Time: the median of 7 runs after one warm-up.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { reencodeAvatar } from '../server/avatar-image';
import { pngBomb, SMALL_PNG } from '../test/support/images';

const LIMIT_BYTES = 1024 * 1024;

/** A photo-like picture: smooth gradients with grain, so that JPEG and PNG work as hard as on a real photo. */
async function photo(side: number, format: 'jpeg' | 'png', quality = 80): Promise<Buffer> {
  const raw = Buffer.alloc(side * side * 3);
  let seed = 7;
  for (let i = 0; i < raw.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const pixel = Math.floor(i / 3);
    raw[i] = (((pixel % side) + Math.floor(pixel / side)) * (i % 3 === 0 ? 1 : 2)) % 200 + (seed >>> 28);
  }
  const image = sharp(raw, { raw: { width: side, height: side, channels: 3 } });
  return (format === 'jpeg' ? image.jpeg({ quality }) : image.png()).toBuffer();
}

const CASES: Record<string, { what: string; make: () => Promise<Buffer> | Buffer }> = {
  'wechat-jpeg': { what: '640 × 640 JPEG photo (a chooseAvatar pick)', make: () => photo(640, 'jpeg') },
  'photo-png': { what: '512 × 512 PNG photo', make: () => photo(512, 'png') },
  'largest-jpeg': { what: '4096 × 4096 JPEG (quality 30), the largest allowed', make: () => photo(4096, 'jpeg', 30) },
  'largest-png': { what: '4096 × 4096 PNG (1 bit, 2 KB), the largest allowed', make: () => pngBomb(4096, 4096) },
  bomb: { what: 'the audit’s 50000 × 50000 PNG bomb (refused, 413)', make: () => pngBomb(50000, 50000) },
};

async function measure(name: string, file: string): Promise<void> {
  const upload = readFileSync(file);
  await reencodeAvatar(SMALL_PNG, LIMIT_BYTES);
  const before = process.memoryUsage().rss;
  const run = async () => {
    const started = process.hrtime.bigint();
    const outcome = await reencodeAvatar(upload, Math.max(LIMIT_BYTES, upload.length * 4)).then(
      (avatar) => `${avatar.ext}, ${avatar.bytes.length} bytes`,
      (error: { status?: number; message: string }) => `${error.status ?? 'error'}: ${error.message}`,
    );
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, outcome };
  };
  const { outcome } = await run();
  const times: number[] = [];
  for (let i = 0; i < 7; i++) times.push((await run()).ms);
  times.sort((a, b) => a - b);
  const peakMb = (process.resourceUsage().maxRSS * 1024 - before) / 2 ** 20;
  process.stdout.write(JSON.stringify({ name, bytes: upload.length, ms: times[3], peakMb: Math.max(0, peakMb), outcome }));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-avatars-'));
  const rows = [];
  try {
    for (const name of Object.keys(CASES)) {
      const file = path.join(dir, name);
      writeFileSync(file, await CASES[name].make());
      const child = spawnSync(process.execPath, [...process.execArgv, __filename, name, file], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`${name}: ${child.stderr}`);
      rows.push(JSON.parse(child.stdout) as { name: string; bytes: number; ms: number; peakMb: number; outcome: string });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const load = os.loadavg().map((l) => l.toFixed(2)).join(', ');
  console.log(`Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), ${os.cpus().length} × ${os.cpus()[0]?.model}, load ${load}\n`);
  console.log('| upload | bytes | median ms | peak memory above idle | outcome |\n|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${CASES[row.name].what} | ${row.bytes} | ${row.ms.toFixed(1)} | ${row.peakMb.toFixed(0)} MB | ${row.outcome} |`);
}

const [only, file] = process.argv.slice(2);
void (only && file ? measure(only, file) : main());
