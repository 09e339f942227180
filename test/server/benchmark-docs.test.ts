/**
 * The benchmark table of docs/benchmarks.md quotes the last `npm run bench`: its figures are the ones
 * bench/results.json holds, so a new run that is not copied into the page fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const benchmarks = readFileSync(path.join(ROOT, 'docs', 'benchmarks.md'), 'utf8');
const results = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'results.json'), 'utf8')) as Record<string, unknown>;

const figure = (key: string): number => {
  const value = results[key];
  if (typeof value !== 'number') throw new Error(`bench/results.json has no number ${key}`);
  return value;
};

describe('the benchmark figures of docs/benchmarks.md', () => {
  it('come from a run of committed code', () => {
    expect(results.uncommittedChanges).toBe(false);
  });

  it.each([
    ['profileVsNodeHttp', (v: number) => `**${v.toFixed(2)}**`],
    ['profileInfoVsNodeHttp', (v: number) => `**${v.toFixed(2)}**`],
    ['redisProfileVsOneGetFloor', (v: number) => `**${v.toFixed(2)}**`],
    ['loginHttpVsInProcess', (v: number) => `**${v.toFixed(2)}**`],
    ['sqliteProfileVsNodeHttp', (v: number) => `**${v.toFixed(2)}**`],
    ['postgresRedisProfileVsFloor', (v: number) => `**${v.toFixed(2)}**`],
    ['sqliteLoginsVsMemory', (v: number) => `**${v.toFixed(2)}**`],
    ['postgresLoginsVsMemory', (v: number) => `**${v.toFixed(2)}**`],
    ['mariadbLoginsVsMemory', (v: number) => `**${v.toFixed(2)}**`],
    ['sqliteBytesPerUser', (v: number) => `**${v} / `],
    ['sqliteBytesPerSession', (v: number) => ` / ${v}**`],
    ['profileVsTutorialExpress', (v: number) => `**${v.toFixed(1)}×**`],
    ['requestOverheadMicros', (v: number) => `**${v.toFixed(1)} µs**`],
    ['packageGzipBytes', (v: number) => `**${v} bytes**`],
    ['redisBytesPerSession', (v: number) => `/ ${v}**`],
  ])('show %s as bench/results.json has it', (key, shown) => {
    expect(benchmarks).toContain(shown(figure(key)));
  });
});
