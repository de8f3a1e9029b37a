// Task "stories": continue a TinyStories-style opening ("Once upon a time, there was a little girl named Mia.") with a
// story that neither repeats itself nor derails, for a model trained on TinyStories (data/models/stories260K). It is
// the kit's verifiable task on a real model's own domain, chosen so that the sampling temperature matters both ways:
//
//   * too low a τ repeats itself: greedy decoding of stories260K falls into loops ("Lily was sad and didn't know what
//     to do." twice in its greedy story, tests/fixtures/stories260k), so a long enough continuation repeats a phrase;
//   * too high a τ derails: the 512-piece vocabulary spells most words from several pieces, and sampling far from the
//     mode assembles pieces into non-words ("gramy", "ompres").
//
// The verifier (verifyStory) reads the continuation only, cut after its last sentence end (. ! or ?, with a closing
// quote), and accepts it when
//   1. the cut part has at least MIN_WORDS words (a story, not a fragment; a continuation without any sentence end fails),
//   2. every word is English: in data/lexicon/english-words.txt (SCOWL via Debian's wamerican, lowercased; a trailing
//      "'s" is stripped first), or one of the prompt's own words (the character's name);
//   3. no phrase repeats: no word 5-gram (lowercased) occurs twice.
// There is no single answer: `answer` is empty and extractAnswer returns null (so majority@k is not meaningful).
// Train and test are disjoint by the hash of the opening's canonical form, like the synthetic tasks. `difficulty` is
// not used (the continuation's length is rollout.maxNewTokens / eval.maxNewTokens; 128 tokens suit stories260K).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import type { Rng } from '../rng';
import { problemId, splitOf } from './split';
import type { Problem, Split, Task } from './types';

export const MIN_WORDS = 10;
export const REPEAT_NGRAM = 5;

const NAMES = [
  'Lily',
  'Tom',
  'Ben',
  'Sue',
  'Max',
  'Mia',
  'Sam',
  'Anna',
  'Tim',
  'Lucy',
  'Jack',
  'Sara',
  'Bob',
  'Amy',
  'Molly',
  'Leo',
  'Zoe',
  'Timmy',
  'Kitty',
  'Spot',
];
const KINDS = ['girl', 'boy', 'dog', 'cat', 'bird', 'bunny', 'bear', 'frog'];
const ADJS = ['little', 'happy', 'small', 'kind', 'curious', 'brave', 'shy', 'funny'];
const PLACES = ['park', 'forest', 'garden', 'small town', 'big house', 'little village'];
const TEMPLATES: ((a: string, k: string, n: string, p: string) => string)[] = [
  (a, k, n) => `Once upon a time, there was a ${a} ${k} named ${n}.`,
  (a, k, n, p) => `Once upon a time, in a ${p}, there lived a ${a} ${k} named ${n}.`,
  (a, k, n, p) => `One day, a ${a} ${k} named ${n} went to the ${p}.`,
];

let lexicon: Set<string> | null = null;

/** The verifier's English word list (data/lexicon/english-words.txt), read once. */
export function englishLexicon(): Set<string> {
  if (!lexicon) {
    const file = path.resolve(__dirname, '..', '..', 'data', 'lexicon', 'english-words.txt');
    if (!fs.existsSync(file)) throw new KitError(`${file}: missing (the stories task's word list; regenerate it with scripts/make-lexicon.py)`);
    lexicon = new Set(
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((w) => w !== ''),
    );
  }
  return lexicon;
}

/** Lowercased words of `text`: letters with an optional apostrophe part ("didn't", "lily's"; ’ counts as '). */
export function storyWords(text: string): string[] {
  return (
    text
      .replace(/\u2019/g, "'")
      .toLowerCase()
      .match(/[a-z]+(?:'[a-z]+)?/g) ?? []
  );
}

/** `text` up to and including its last sentence end (. ! ? and any closing quotes after it); '' when there is none. */
export function cutAtSentenceEnd(text: string): string {
  const m = /^[\s\S]*[.!?]["'\u201d]*/.exec(text);
  return m ? m[0] : '';
}

export interface StoryVerdict {
  ok: boolean;
  /** Why it failed ('' when ok): 'no sentence end', 'too short', 'non-word "x"', 'repeats "a b c d e"'. */
  reason: string;
  /** Words of the part that was checked. */
  words: number;
}

/** The verifier, with the reason for a rejection (the notebook shows it). `prompt` contributes its own words. */
export function verifyStory(completion: string, prompt: string): StoryVerdict {
  if (typeof completion !== 'string') return { ok: false, reason: 'not a string', words: 0 };
  const cut = cutAtSentenceEnd(completion);
  if (cut === '') return { ok: false, reason: 'no sentence end', words: 0 };
  const words = storyWords(cut);
  if (words.length < MIN_WORDS) return { ok: false, reason: `too short (${words.length} words)`, words: words.length };
  const lex = englishLexicon();
  const own = new Set(storyWords(prompt));
  for (const w of words) {
    const base = w.endsWith("'s") ? w.slice(0, -2) : w;
    if (!lex.has(base) && !own.has(base)) return { ok: false, reason: `non-word "${w}"`, words: words.length };
  }
  const seen = new Set<string>();
  for (let i = 0; i + REPEAT_NGRAM <= words.length; i++) {
    const g = words.slice(i, i + REPEAT_NGRAM).join(' ');
    if (seen.has(g)) return { ok: false, reason: `repeats "${g}"`, words: words.length };
    seen.add(g);
  }
  return { ok: true, reason: '', words: words.length };
}

export const storiesTask: Task = {
  name: 'stories',
  description: 'continue a TinyStories opening without repeating a phrase or writing a non-word (for data/models/stories260K)',

  generate(rng: Rng, split: Split, n: number): Problem[] {
    if (!Number.isInteger(n) || n < 0) throw new KitError(`stories: n must be a non-negative integer, got ${n}`);
    const out: Problem[] = [];
    const seen = new Set<string>();
    const maxTries = 200 * n + 1000;
    for (let tries = 0; out.length < n; tries++) {
      if (tries > maxTries) throw new KitError(`stories: could only generate ${out.length} of ${n} distinct ${split} openings`);
      const t = rng.int(TEMPLATES.length);
      const [a, k, name, p] = [rng.pick(ADJS), rng.pick(KINDS), rng.pick(NAMES), rng.pick(PLACES)];
      const prompt = TEMPLATES[t](a, k, name, p);
      const canon = `${t}|${a}|${k}|${name}|${t === 0 ? '' : p}`;
      if (splitOf(canon) !== split || seen.has(canon)) continue;
      seen.add(canon);
      out.push({ id: problemId('stories', split, canon), prompt, answer: '', solution: '', meta: { canonical: canon, name } });
    }
    return out;
  },

  verify: (completion, problem) => verifyStory(completion, problem.prompt).ok,
  extractAnswer: () => null,
};
