// README.md and docs/*.md link only inside the repository: every relative link must name a file or folder that exists
// in the checkout (never above its root), every anchor must be a heading of the target page under GitHub's slug rule,
// and there are no http(s) or mailto links at all (the project keeps its references inside the repository). They also
// must not speak of "issue <number>": the tracker's numbers mean nothing to a reader of the kit.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

function markdownFiles(): string[] {
  const docs = path.join(ROOT, 'docs');
  const inDocs = fs.existsSync(docs)
    ? fs
        .readdirSync(docs)
        .filter((f) => f.endsWith('.md'))
        .sort()
        .map((f) => path.join('docs', f))
    : [];
  return ['README.md', ...inDocs];
}

/** The text outside fenced code blocks, with inline code spans kept as plain text in place of links' and headings'
 *  markup but unable to hold a link themselves. Line structure is kept, so line numbers stay right. */
function prose(text: string): string[] {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length) fence = null;
      out.push('');
    } else if (m) {
      fence = m[1];
      out.push('');
    } else {
      out.push(line);
    }
  }
  return out;
}

/** Inline code spans replaced by their content with the characters that could form a link or an URL neutralised. */
function withoutCodeSpans(line: string): string {
  return line.replace(/(`+)([\s\S]*?)\1/g, (_m, _ticks, body: string) => body.replace(/[[\]()]/g, ' ').replace(/:\/\//g, ' '));
}

/** GitHub's heading anchor: inline markup dropped, lower case, everything but letters, marks, numbers, connector
 *  punctuation (`_`), hyphens and spaces removed, spaces turned into hyphens; repeated anchors get -1, -2, …. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '');
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let anchors = anchorCache.get(file);
  if (anchors) return anchors;
  anchors = new Set();
  const seen = new Map<string, number>();
  for (const line of prose(fs.readFileSync(file, 'utf8'))) {
    const m = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = githubSlug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  anchorCache.set(file, anchors);
  return anchors;
}

interface Link {
  line: number;
  target: string;
}
function linksOf(text: string): Link[] {
  const links: Link[] = [];
  prose(text).forEach((raw, i) => {
    const line = withoutCodeSpans(raw);
    for (const m of line.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: i + 1, target: m[1] });
  });
  return links;
}

/** What is wrong with one link of `file`, or null. */
function checkLink(file: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return `links outside the repository (${target.split(':')[0]}:)`;
  if (target === '') return 'an empty link';
  const hash = target.indexOf('#');
  const rel = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
  const dest = rel === '' ? file : path.resolve(path.dirname(file), rel);
  if (path.relative(ROOT, dest).startsWith('..') || path.isAbsolute(path.relative(ROOT, dest))) return `points outside the repository`;
  if (!fs.existsSync(dest)) return `names ${path.relative(ROOT, dest)}, which does not exist`;
  if (anchor === null) return null;
  if (dest.endsWith('.md') && fs.statSync(dest).isFile()) {
    return anchorsOf(dest).has(anchor) ? null : `#${anchor} is no heading of ${path.relative(ROOT, dest)}`;
  }
  return /^L\d+(-L\d+)?$/.test(anchor) ? null : `#${anchor} on a file that is not Markdown`;
}

describe('links in README.md and docs/', () => {
  const files = markdownFiles();

  it('finds the pages', () => {
    expect(files).toContain('README.md');
    expect(files.length).toBeGreaterThan(1);
  });

  it.each(files)('%s: every link resolves inside the repository', (rel) => {
    const file = path.join(ROOT, rel);
    const problems = linksOf(fs.readFileSync(file, 'utf8'))
      .map(({ line, target }) => ({ line, target, why: checkLink(file, target) }))
      .filter((p) => p.why !== null)
      .map((p) => `${rel}:${p.line}: (${p.target}) ${p.why}`);
    expect(problems).toEqual([]);
  });

  it.each(files)('%s: no bare http(s) address either', (rel) => {
    const lines = prose(fs.readFileSync(path.join(ROOT, rel), 'utf8'));
    const bare = lines.flatMap((l, i) => (/\b(https?:\/\/|www\.)\S/i.test(l) ? [`${rel}:${i + 1}: ${l.trim()}`] : []));
    expect(bare).toEqual([]);
  });

  it.each(files)('%s: says nothing of "issue <number>"', (rel) => {
    const lines = fs.readFileSync(path.join(ROOT, rel), 'utf8').split('\n');
    const hits = lines.flatMap((l, i) => (/\bissues?\s*#?\s*\d/i.test(l) ? [`${rel}:${i + 1}: ${l.trim()}`] : []));
    expect(hits).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('slugs headings as GitHub does', () => {
    expect(githubSlug('The `paper` preset: RL on MATH train, evaluation per benchmark')).toBe('the-paper-preset-rl-on-math-train-evaluation-per-benchmark');
    expect(githubSlug('Headroom before RL')).toBe('headroom-before-rl');
    expect(githubSlug('τ sweep — the base model')).toBe('τ-sweep--the-base-model');
    expect(githubSlug('A [link](x.md) and snake_case')).toBe('a-link-and-snake_case');
  });

  it('rejects external, missing, escaping and dangling links', () => {
    const readme = path.join(ROOT, 'README.md');
    expect(checkLink(readme, 'https://example.org')).toMatch(/outside the repository/);
    expect(checkLink(readme, 'mailto:a@b.c')).toMatch(/outside the repository/);
    expect(checkLink(readme, 'no/such/file.md')).toMatch(/does not exist/);
    expect(checkLink(readme, '../shared/docs/paper-notes.md')).toMatch(/outside the repository/);
    expect(checkLink(readme, 'README.md#no-such-heading-anywhere')).toMatch(/no heading/);
    expect(checkLink(readme, 'package.json')).toBeNull();
  });

  it('reads links outside code only', () => {
    const text = 'a [x](a.md) and `[y](b.md)`\n```\n[z](c.md)\n```\n![img](d.png "t")';
    expect(linksOf(text).map((l) => l.target)).toEqual(['a.md', 'd.png']);
  });
});
