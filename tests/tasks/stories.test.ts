// The stories task: the verifier's rules on hand-written continuations, disjoint train/test openings, and — on the
// real stories260K model — that the sampling temperature matters both ways (greedy repeats, a high τ derails).
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { evaluate } from '../../src/eval/evaluate';
import { loadModel } from '../../src/lm/load';
import { loadTokenizer } from '../../src/lm/tokenizer';
import { englishClassExamples, englishTokenClasses, englishTokenWords, FUNCTION_WORDS } from '../../src/plots/english-classes';
import { tauByClassWith } from '../../src/plots/interpret';
import { createController } from '../../src/policy/registry';
import { Rng } from '../../src/rng';
import { getTask } from '../../src/tasks/registry';
import { cutAtSentenceEnd, storyWords, verifyStory } from '../../src/tasks/stories';

const PROMPT = 'Once upon a time, there was a little girl named Zoe.';

describe('verifyStory', () => {
  it('accepts a story of English words without a repeated phrase, checked up to its last sentence end', () => {
    const v = verifyStory(" She liked to play in the park with her dog. One day, Zoe's dog found a big red ball and it was very happy. Then the", PROMPT);
    expect(v).toEqual({ ok: true, reason: '', words: 24 }); // 10 + 14 words; "Then the" is cut
  });

  it('rejects each failure with its reason', () => {
    expect(verifyStory(' She liked to play in the park with her dog and', PROMPT).reason).toBe('no sentence end');
    expect(verifyStory(' She was happy. And', PROMPT).reason).toBe('too short (3 words)');
    expect(verifyStory(' She liked to play with her blorf in the park every day.', PROMPT).reason).toBe('non-word "blorf"');
    expect(verifyStory(' Lily was sad and did not know what to do. Lily was sad and did not know.', PROMPT).reason).toBe('repeats "lily was sad and did"');
    // Four repeated words are not a repeated 5-gram.
    expect(verifyStory(' She went to the park. Then she went to the big shop with mom.', PROMPT).ok).toBe(true);
    expect(verifyStory(null as unknown as string, PROMPT).ok).toBe(false);
  });

  it('a name from the prompt, possessives and contractions count as words; the word list holds common story words', () => {
    expect(storyWords('Zoe\'s mom didn\u2019t say "Hi!"')).toEqual(["zoe's", 'mom', "didn't", 'say', 'hi']);
    expect(verifyStory(" Qwzx and her mom didn't go to the park because it was raining.", 'A girl named Qwzx.').ok).toBe(true);
    expect(verifyStory(" Qwzx and her mom didn't go to the park because it was raining.", PROMPT).reason).toBe('non-word "qwzx"');
  });

  it('cuts after the last sentence end, closing quotes included', () => {
    expect(cutAtSentenceEnd(' He said, "Yes!" Then he')).toBe(' He said, "Yes!"');
    expect(cutAtSentenceEnd(' no end')).toBe('');
    expect(cutAtSentenceEnd(' A. B? C')).toBe(' A. B?');
  });
});

describe('storiesTask.generate', () => {
  it('distinct openings, disjoint train and test, deterministic', () => {
    const task = getTask('stories');
    const train = task.generate(new Rng(0), 'train', 200);
    const test = task.generate(new Rng(0), 'test', 50);
    expect(new Set(train.map((p) => p.id)).size).toBe(200);
    const trainIds = new Set(train.map((p) => p.id));
    expect(test.some((p) => trainIds.has(p.id))).toBe(false);
    expect(task.generate(new Rng(0), 'train', 5)).toEqual(train.slice(0, 5));
    for (const p of [...train, ...test]) expect(p.prompt).toMatch(/^(Once upon a time|One day), .* named [A-Z][a-z]+( went to the [a-z ]+)?\.$/);
    expect(task.extractAnswer('anything')).toBeNull();
  });
});

describe('English token classes', () => {
  it('classify pieces by the word they belong to', () => {
    const pieces = ['<s>', '▁Once', '▁upon', '▁a', '▁time', ',', '▁she', '▁pl', 'ay', 'ed', '.', '▁"', 'I', "'", 'm', '▁', '<0xF0>', '<0x0A>', 'The'];
    expect(englishTokenClasses(pieces)).toEqual([
      'other',
      'content',
      'function',
      'function',
      'content',
      'punctuation',
      'function',
      'content',
      'content',
      'content',
      'punctuation',
      'punctuation',
      'function',
      'function',
      'function',
      'other',
      'other',
      'newline',
      'function',
    ]);
    expect(FUNCTION_WORDS.has('the') && !FUNCTION_WORDS.has('ball')).toBe(true);
    expect(englishTokenWords(pieces).words.slice(6, 15)).toEqual(['she', 'played', 'played', 'played', '.', '▁"', "i'm", "i'm", "i'm"]);
    const trace = { problemId: 'p', correct: true, text: pieces, tau: pieces.map(() => 1), gate: pieces.map(() => 1), entropy: pieces.map(() => 0) };
    expect(englishClassExamples([trace], 3)).toEqual({
      function: ['upon', 'a', 'she'],
      content: ['once', 'time', 'played'],
      punctuation: [',', '.', '▁"'],
      newline: ['<0x0A>'],
      other: ['<s>', '▁', '<0xF0>'],
    });
  });

  it('tauByClassWith averages τ per class (hand-computed)', () => {
    const t = { problemId: 'p', correct: true, text: ['▁the', '▁ball', '.', '▁a'], tau: [0.4, 1.2, 0.8, 0.6], gate: [1, 1, 1, 1], entropy: [0, 0, 0, 0] };
    const s = tauByClassWith([t], ['function', 'content', 'punctuation', 'newline', 'other'] as const, englishTokenClasses, { resamples: 10 });
    expect(s.function.value).toBeCloseTo(0.5, 6);
    expect(s.content.value).toBeCloseTo(1.2, 6);
    expect(s.punctuation.value).toBeCloseTo(0.8, 6);
    expect(s.function.count).toBe(2);
    expect(Number.isNaN(s.newline.value)).toBe(true);
  });
});

describe('on stories260K the temperature matters both ways', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('Avg@2 over 16 openings: greedy and τ = 1.5 both below τ = 0.7', async () => {
    const dir = path.join(__dirname, '..', '..', 'data', 'models', 'stories260K');
    const { model } = loadModel(dir, { trainable: false });
    const tok = await loadTokenizer(dir);
    const task = getTask('stories');
    const problems = task.generate(new Rng(0), 'test', 16);
    const acc: Record<string, number> = {};
    for (const tau of [0, 0.7, 1.5]) {
      const c = createController('fixed', { fixedTau: tau }, 64, 0);
      const k = tau === 0 ? 1 : 2;
      acc[tau] = evaluate(model, tok, c, problems, task, { k, maxNewTokens: 128, tau0: 1, batchRows: 32 }, new Rng(1)).report.avg.value;
      c.dispose();
    }
    console.log(`stories260K Avg@k by fixed τ: ${JSON.stringify(acc)}`);
    expect(acc[0.7]).toBeGreaterThan(acc[0] + 0.15);
    expect(acc[0.7]).toBeGreaterThan(acc[1.5] + 0.15);
    model.dispose();
  });
});
