/**
 * The README's "screen by screen" section against the state table: every state's screenshot is
 * shown, captioned with the state's title, in the table's order, which is the contact sheet's.
 * Needs no browser: it reads the README and the table.
 */
import fs from 'fs';
import path from 'path';
import { SCREEN_STATES } from './states';

const README = path.join(__dirname, '..', '..', 'README.md');
const SECTION = '## What the user sees, screen by screen';

/** [caption, screenshot id] of every picture in the section's tables, in reading order. */
function readmeScreens(): [string, string][] {
  const text = fs.readFileSync(README, 'utf8');
  const start = text.indexOf(SECTION);
  if (start < 0) throw new Error(`README.md has no "${SECTION}" section`);
  const end = text.indexOf('\n## ', start + SECTION.length);
  const lines = text.slice(start, end < 0 ? undefined : end).split('\n');
  const cells = (line: string) => line.split('|').slice(1, -1).map((cell) => cell.trim());
  const shown: [string, string][] = [];
  lines.forEach((line, i) => {
    // A table: its first line holds the captions, its third the pictures.
    if (!line.startsWith('|') || (i > 0 && lines[i - 1].startsWith('|'))) return;
    const captions = cells(line);
    cells(lines[i + 2] || '').forEach((picture, k) => {
      const file = /^!\[[^\]]*\]\(docs\/screenshots\/([\w-]+)\.png\)$/.exec(picture);
      shown.push([captions[k], file ? file[1] : picture]);
    });
  });
  return shown;
}

test('the README shows every screen state, captioned with its title, in the order of the state table and the contact sheet', () => {
  expect(readmeScreens()).toEqual(SCREEN_STATES.map((state) => [state.title, state.id]));
});

test('every screenshot the README shows exists', () => {
  for (const [, id] of readmeScreens()) expect(fs.existsSync(path.join(__dirname, '..', '..', 'docs', 'screenshots', `${id}.png`))).toBe(true);
});
