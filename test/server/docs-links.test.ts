/**
 * The documentation holds together: the root README is a short front door that links every page
 * under docs/, and every relative link and anchor in those pages leads somewhere that exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const PAGES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** The text a reader sees as markdown: fenced blocks and inline code hold no links and no headings. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of withoutFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Every link target of a page: markdown links and images, reference definitions, HTML src/href. */
function linksOf(markdown: string): string[] {
  const text = prose(markdown);
  return [
    ...[...text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]),
    ...[...text.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]),
  ];
}

/** The links of a page (its path from the repository root) that lead nowhere, each with why. */
function brokenLinks(page: string, markdown: string, exists = (file: string) => existsSync(path.join(ROOT, file)), read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8')): string[] {
  const broken: string[] = [];
  for (const link of linksOf(markdown)) {
    if (/^[a-z][a-z\d+.-]*:/i.test(link)) continue; // https:, mailto: and the like: not this repository's
    const [target, anchor] = link.split('#', 2) as [string, string | undefined];
    const file = target === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURIComponent(target)));
    if (file.startsWith('../') || path.posix.isAbsolute(file)) broken.push(`${link}: outside the repository`);
    else if (!exists(file)) broken.push(`${link}: no file ${file}`);
    else if (anchor !== undefined && !file.endsWith('.md')) broken.push(`${link}: an anchor into ${file}, which has no headings`);
    else if (anchor !== undefined && !anchorsOf(file === page ? markdown : read(file)).has(decodeURIComponent(anchor))) broken.push(`${link}: ${file} has no heading #${anchor}`);
  }
  return broken;
}

describe('the link check itself', () => {
  const files: Record<string, string> = { 'docs/a.md': '# A page\n\n## Phone numbers, UnionID and WeChat\'s `token`\n\n## Twice\n\n## Twice\n', 'docs/b.png': '' };
  const check = (markdown: string) => brokenLinks('docs/page.md', markdown, (file) => file in files || file === 'docs/page.md', (file) => files[file]);

  it('finds a missing file, a missing heading and a link out of the repository, and names each', () => {
    expect(check('[x](missing.md) [y](a.md#nowhere) ![z](../../up.png) [w](#not-here)\n\n# Here')).toEqual([
      'missing.md: no file docs/missing.md',
      'a.md#nowhere: docs/a.md has no heading #nowhere',
      '../../up.png: outside the repository',
      '#not-here: docs/page.md has no heading #not-here',
    ]);
  });

  it('accepts files, GitHub’s anchors (punctuation dropped, repeats numbered) and links to the web, and ignores code', () => {
    expect(check('[a](a.md#phone-numbers-unionid-and-wechats-token) [b](a.md#twice-1) <img src="b.png"> [c](https://example.com/x#y) [d](#here) `[e](nowhere.md)`\n\n```md\n[f](nowhere.md)\n```\n\n## Here\n')).toEqual([]);
  });
});

describe('the documentation', () => {
  it.each(PAGES)('%s: every relative link and anchor leads to a file and heading that exist', (page) => {
    expect(brokenLinks(page, readFileSync(path.join(ROOT, page), 'utf8'))).toEqual([]);
  });

  it('the root README is a front door: under 200 lines', () => {
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThan(200);
  });

  it('the root README links every page under docs/', () => {
    const linked = new Set(linksOf(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).map((link) => link.split('#')[0]));
    expect(PAGES.filter((page) => page !== 'README.md' && !linked.has(page))).toEqual([]);
  });
});
