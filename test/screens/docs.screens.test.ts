/**
 * The screens as the documentation shows them, against the state table: docs/screens.md shows every
 * state's screenshot, captioned with the state's title, in the table's order, which is the contact
 * sheet's; the root README shows a few of them, captioned the same way, in the same order.
 * Needs no browser: it reads the pages and the table.
 */
import fs from 'fs';
import path from 'path';
import { SCREEN_STATES } from './states';

const ROOT = path.join(__dirname, '..', '..');
const SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');

/**
 * [caption, screenshot id] of every picture in the tables of a page, in reading order. A picture
 * that is not a screenshot (seen from the page: `screenshotsDir/<id>.png`) is kept whole as its id,
 * so that the comparison names it.
 */
function screensShownIn(page: string, screenshotsDir: string): [string, string][] {
  const lines = fs.readFileSync(path.join(ROOT, page), 'utf8').split('\n');
  const cells = (line: string) => line.split('|').slice(1, -1).map((cell) => cell.trim());
  const picture = new RegExp(`^!\\[[^\\]]*\\]\\(${screenshotsDir.replace(/[/.]/g, '\\$&')}/([\\w-]+)\\.png\\)$`);
  const shown: [string, string][] = [];
  lines.forEach((line, i) => {
    // A table: its first line holds the captions, its third the pictures.
    if (!line.startsWith('|') || (i > 0 && lines[i - 1].startsWith('|'))) return;
    const captions = cells(line);
    cells(lines[i + 2] || '').forEach((cell, k) => {
      const file = picture.exec(cell);
      shown.push([captions[k], file ? file[1] : cell]);
    });
  });
  return shown;
}

const screensPage = () => screensShownIn('docs/screens.md', 'screenshots');
const readme = () => screensShownIn('README.md', 'docs/screenshots');

test('docs/screens.md shows every screen state, captioned with its title, in the order of the state table and the contact sheet', () => {
  expect(screensPage()).toEqual(SCREEN_STATES.map((state) => [state.title, state.id]));
});

test('the root README shows a few screen states, each captioned with its title, in the state table’s order', () => {
  const shown = readme();
  expect(shown.length).toBeGreaterThanOrEqual(3);
  const table = SCREEN_STATES.map((state) => [state.title, state.id]);
  const positions = shown.map(([title, id]) => table.findIndex(([t, i]) => t === title && i === id));
  expect(positions).not.toContain(-1);
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
});

test('every screenshot the documentation shows exists', () => {
  const ids = [...screensPage(), ...readme()].map(([, id]) => id);
  expect(ids.filter((id) => !fs.existsSync(path.join(SCREENSHOTS, `${id}.png`)))).toEqual([]);
});
