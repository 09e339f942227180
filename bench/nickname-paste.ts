/**
 * `npx tsx bench/nickname-paste.ts`: what the nickname field's input handler costs per keystroke
 * once a 50 KB paste is in it. "whole" segments the entire paste, as the counter did before the
 * field and the rule were capped at NICKNAME_MAX_INPUT; "rule" is what the handler runs now
 * (checkNickname). Medians of 5 runs, with Intl.Segmenter and, as on older WeChat engines, without.
 */
import { checkNickname } from '../miniprogram/utils/nickname';

const PASTES: Record<string, string> = {
  latin: 'a'.repeat(50_000),
  cjk: '好'.repeat(25_000),
  'zwj families': '👨‍👩‍👧‍👦'.repeat(4545),
  'combining marks': `e${'\u0301'.repeat(9)}`.repeat(5000),
};

/** The counter before the cap: every segment of the paste, on every keystroke. */
function countWhole(segmenter: Intl.Segmenter, text: string): number {
  let count = 0;
  for (const _ of segmenter.segment(text)) count++;
  return count;
}

function medianMs(run: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b)[2];
}

const intl = Intl as unknown as { Segmenter?: typeof Intl.Segmenter };
const Segmenter = intl.Segmenter;
for (const engine of ['Intl.Segmenter', 'no Intl.Segmenter'] as const) {
  intl.Segmenter = engine === 'Intl.Segmenter' ? Segmenter : undefined;
  for (const [kind, paste] of Object.entries(PASTES)) {
    const whole = Segmenter && engine === 'Intl.Segmenter' ? medianMs(() => countWhole(new Segmenter(undefined, { granularity: 'grapheme' }), paste)) : NaN;
    const rule = medianMs(() => checkNickname(paste));
    console.log(`${engine.padEnd(18)} ${kind.padEnd(16)} whole ${Number.isNaN(whole) ? '   -' : whole.toFixed(1).padStart(7)} ms   rule ${rule.toFixed(3)} ms`);
  }
}
intl.Segmenter = Segmenter;
