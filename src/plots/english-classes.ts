// Token classes of real English text, for τ by token class on a SentencePiece-style model (stories260K): each token
// takes the class of the word it belongs to — a function word (closed-class: articles, pronouns, prepositions,
// conjunctions, auxiliaries, determiners) or a content word — or is punctuation, a newline, or other (digits, bytes of
// a character outside the vocabulary, a bare word boundary, special tokens).
//
// Tokens are given as vocabulary pieces (Tokenizer.pieces: "▁the", "ed", "<0x0A>"), because pieces keep the word
// boundary (▁) that decoding one token alone drops. A word is a maximal run of pieces whose letters are contiguous: it
// starts at a piece beginning with ▁ or after a non-letter piece. A piece that mixes punctuation and letters ("▁\"I")
// belongs to the word its letters are part of.
import type { TokenTrace } from './types';

export type EnglishClass = 'function' | 'content' | 'punctuation' | 'newline' | 'other';
export const ENGLISH_CLASSES: readonly EnglishClass[] = ['function', 'content', 'punctuation', 'newline', 'other'];

/** Closed-class English words (lowercase), the usual list of a stop-word filter, written out here. */
export const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the this that these those some any each every no all both either neither ' +
    'i me my mine myself you your yours yourself he him his himself she her hers herself it its itself we us our ours ' +
    'ourselves they them their theirs themselves who whom whose which what ' +
    'and or but nor so yet if then than because while when where until as though although unless whether ' +
    'of in on at to from by with without about above below over under into onto out up down off through after before ' +
    'around near behind between across along among against during toward towards upon ' +
    'be am is are was were been being have has had having do does did doing will would shall should can could may ' +
    'might must not ' +
    "i'm you're he's she's it's we're they're i've you've we've they've i'll you'll he'll she'll we'll they'll " +
    "i'd you'd he'd she'd we'd they'd isn't aren't wasn't weren't don't doesn't didn't can't couldn't won't wouldn't " +
    "shouldn't haven't hasn't hadn't let's there here very too also just"
  ).split(/\s+/),
);

const BOUNDARY = '\u2581';
const isLetter = (ch: string) => /\p{L}/u.test(ch) || ch === "'";

/** The class of every token of a piece sequence (see the header comment). */
export function englishTokenClasses(pieces: readonly string[]): EnglishClass[] {
  return englishTokenWords(pieces).classes;
}

/**
 * englishTokenClasses plus, per token, the text it is classified by: its whole word (lowercased) for a word's pieces,
 * else the piece itself.
 */
export function englishTokenWords(pieces: readonly string[]): { classes: EnglishClass[]; words: string[] } {
  const out: EnglishClass[] = new Array(pieces.length).fill('other');
  const words: string[] = pieces.slice();
  // Group pieces into words: indices of the pieces that carry each word's letters.
  let word = '';
  let members: number[] = [];
  const flush = () => {
    if (members.length) {
      const w = word.toLowerCase().replace(/^'+|'+$/g, '');
      const cls: EnglishClass = FUNCTION_WORDS.has(w) ? 'function' : 'content';
      for (const i of members) {
        out[i] = cls;
        words[i] = w;
      }
    }
    word = '';
    members = [];
  };
  pieces.forEach((raw, i) => {
    if (raw === '<0x0A>' || raw === '\n') {
      flush();
      out[i] = 'newline';
      return;
    }
    if (/^<.*>$/.test(raw) && raw.length > 2) {
      // byte pieces and special tokens
      flush();
      return;
    }
    const chars = Array.from(raw.replaceAll(BOUNDARY, ' '));
    if (chars.length === 0) return;
    // A word starts at a word boundary or after a non-letter; a piece's letters all belong to one word.
    if (!isLetter(chars[0])) flush();
    const letters = chars.filter(isLetter).join('');
    if (letters) {
      word += letters;
      members.push(i);
      if (!isLetter(chars[chars.length - 1])) flush();
    } else {
      flush();
      if (chars.some((ch) => /\p{P}/u.test(ch))) out[i] = 'punctuation';
    }
  });
  flush();
  return { classes: out, words };
}

/** The first `perClass` distinct words (or pieces, for the classes that are not words) of each class over `traces`. */
export function englishClassExamples(traces: readonly TokenTrace[], perClass = 6): Record<EnglishClass, string[]> {
  const out = Object.fromEntries(ENGLISH_CLASSES.map((c) => [c, [] as string[]])) as Record<EnglishClass, string[]>;
  for (const t of traces) {
    const { classes, words } = englishTokenWords(t.text);
    classes.forEach((c, i) => {
      if (out[c].length < perClass && !out[c].includes(words[i])) out[c].push(words[i]);
    });
  }
  return out;
}
