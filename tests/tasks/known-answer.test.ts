// The known-answer task: the constructed decoder's next-token distributions are the closed form the task states (its
// optimum at exactly τ*_k for every class), the verifier and the token classes on hand-made completions, and bad rules
// as errors that name the key.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config';
import { closedFormAccuracy } from '../../src/experiments/known-answer';
import { loadModel } from '../../src/lm/load';
import { loadTokenizer } from '../../src/lm/tokenizer';
import { Rng } from '../../src/rng';
import { createKnownAnswerTask, KA_BASE_A, KA_FILLERS, KA_RHO, KA_TARGETS, successProbability, writeKnownAnswerModel } from '../../src/tasks/known-answer';
import { modelDirFor, taskFromConfig } from '../../src/tasks/registry';
import { expectKitError, tempDir } from '../helpers/kit';

const dir = tempDir();
beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The decoder's next-token probabilities after `text` (BOS + the characters), at temperature τ. */
async function nextProbs(modelDir: string, text: string, tau: number): Promise<{ probs: Float32Array; idOf: (ch: string) => number; eos: number }> {
  const tok = await loadTokenizer(modelDir);
  const { model } = loadModel(modelDir, { trainable: false });
  try {
    const ids = [tok.bosId!, ...tok.encode(text)];
    const probs = tf.tidy(() => {
      const out = model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'));
      const last = tf.slice(out.logits as tf.Tensor3D, [0, ids.length - 1, 0], [1, 1, -1]);
      return tf.softmax(tf.div(tf.reshape(last, [-1]), tau)).dataSync() as Float32Array;
    });
    return { probs, idOf: (ch) => tok.encode(ch)[0], eos: tok.eosId! };
  } finally {
    model.dispose();
  }
}

describe('known-answer model', () => {
  const spec = { optimalTau: [0.6, 1.4], positions: 2 };
  let modelDir = '';
  beforeAll(() => {
    modelDir = writeKnownAnswerModel(dir, spec);
  });

  it('at a class-k position, P(correct) from the decoder is the closed form, maximal at τ*_k', async () => {
    // prompt ending in an even digit: class A (τ* 0.6, targets a–f); odd: class B (τ* 1.4, targets h–m)
    for (const [prompt, targets, optimal] of [
      ['12344', 'abcdef', 0.6],
      ['12345', 'hijklm', 1.4],
    ] as const) {
      const byTau: number[] = [];
      for (const tau of [0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6]) {
        const { probs, idOf } = await nextProbs(modelDir, prompt, tau);
        const p = Array.from(targets).reduce((s, ch) => s + probs[idOf(ch)], 0);
        expect(p).toBeCloseTo(successProbability(optimal, tau), 4);
        byTau.push(p);
      }
      // hand form at τ = τ*: 6 / (e^a + 6 + 1024 e^(−6a)), a = ln(6 · 1024) / 7
      const a = Math.log(6 * 1024) / 7;
      expect(KA_BASE_A).toBeCloseTo(a, 12);
      expect(successProbability(optimal, optimal)).toBeCloseTo(6 / (Math.exp(a) + 6 + 1024 * Math.exp(-6 * a)), 12);
      expect([KA_TARGETS, KA_FILLERS, KA_RHO]).toEqual([6, 1024, 6]);
      // the maximum over a fine grid of τ lies at τ*
      const grid = Array.from({ length: 241 }, (_, i) => 0.3 + i * 0.01);
      const best = grid.reduce((b, t) => (successProbability(optimal, t) > successProbability(optimal, b) ? t : b), grid[0]);
      expect(best).toBeCloseTo(optimal, 6);
    }
  });

  it('a correct token names the next class; a wrong one leads to EOS only', async () => {
    // after class A's 'a' (its first target: j = 0 → class 0 = A), the targets are A's; after 'b' (j = 1), B's
    const afterA = await nextProbs(modelDir, '12344a', 1);
    expect(Array.from('abcdef').reduce((s, ch) => s + afterA.probs[afterA.idOf(ch)], 0)).toBeCloseTo(successProbability(0.6, 1), 4);
    const afterB = await nextProbs(modelDir, '12344b', 1);
    expect(Array.from('hijklm').reduce((s, ch) => s + afterB.probs[afterB.idOf(ch)], 0)).toBeCloseTo(successProbability(1.4, 1), 4);
    const dead = await nextProbs(modelDir, '12344g', 1.6); // 'g' is class A's decoy
    expect(dead.probs[dead.eos]).toBe(1);
  });

  it('writes each rule once, to its own folder, and reuses it', () => {
    expect(writeKnownAnswerModel(dir, spec)).toBe(modelDir);
    const other = writeKnownAnswerModel(dir, { optimalTau: [1.4, 0.6], positions: 2 });
    expect(other).not.toBe(modelDir);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(other, 'known-answer.json'), 'utf8')).optimalTau).toEqual([1.4, 0.6]);
  });
});

describe('known-answer task', () => {
  const task = createKnownAnswerTask({ optimalTau: [0.6, 1.4], positions: 2 });
  const problem = (prompt: string) => ({ id: 'x', prompt, answer: '', solution: '' });

  it('grades the first K characters by their classes (hand cases)', () => {
    // '…5' → class B first; 'h' is B's target 0 → class A next; 'i' is B's target 1 → class B next
    expect(task.verify('ha', problem('12345'))).toBe(true);
    expect(task.verify('ih', problem('12345'))).toBe(true);
    expect(task.verify('hh', problem('12345'))).toBe(false); // 'h' is not a class-A target
    expect(task.verify('ah', problem('12345'))).toBe(false); // 'a' is not a class-B target
    expect(task.verify('nh', problem('12345'))).toBe(false); // 'n' is B's decoy
    expect(task.verify('h', problem('12345'))).toBe(false); // a filler (no text) at position 2
    expect(task.verify('ha', problem('12344'))).toBe(false); // '…4' starts in class A
    expect(task.verify('', problem('12345'))).toBe(false);
  });

  it('names the class of every generated position, null after the first wrong token', () => {
    expect(task.tokenClasses!(problem('12345'), ['i', 'h'])).toEqual(['B', 'B']);
    expect(task.tokenClasses!(problem('12345'), ['h', 'a'])).toEqual(['B', 'A']);
    expect(task.tokenClasses!(problem('12344'), ['', ''])).toEqual(['A', null]); // a filler, then EOS
  });

  it('generates disjoint splits whose reference solutions verify', () => {
    const train = task.generate(new Rng(1), 'train', 200);
    const test = task.generate(new Rng(1), 'test', 200);
    const ids = new Set(train.map((p) => p.prompt));
    expect(test.some((p) => ids.has(p.prompt))).toBe(false);
    for (const p of [...train, ...test]) expect(task.verify(p.solution, p)).toBe(true);
  });

  it('the closed-form accuracies: best fixed τ between the optima, below the per-class optimum', () => {
    const c = closedFormAccuracy([0.6, 1.4], 2);
    const p = (t: number, tau: number) => successProbability(t, tau);
    // K = 2, classes uniform at both positions (first: digits 0–9 mod 2; later: targets split evenly)
    expect(c.optimal_accuracy).toBeCloseTo(((p(0.6, 0.6) + p(1.4, 1.4)) / 2) ** 2, 12);
    expect(c.best_fixed_tau).toBeGreaterThan(0.6);
    expect(c.best_fixed_tau).toBeLessThan(1.4);
    expect(c.best_fixed_accuracy).toBeLessThan(c.optimal_accuracy - 0.1);
  });

  it('the preset builds its model from the config keys, and bad rules are errors naming the key', () => {
    const cfg = resolveConfig({ preset: 'known-answer', overrides: [{ source: 'test', value: { model: { dir }, task: { optimalTau: [0.5, 1.0, 1.5] } } }] });
    expect(taskFromConfig(cfg.task).description).toContain('0.5, 1, 1.5');
    expect(fs.existsSync(path.join(modelDirFor(cfg), 'model.safetensors'))).toBe(true);
    expectKitError(() => createKnownAnswerTask({ optimalTau: [0.5, 1, 1.5, 2], positions: 2 }), 'task.optimalTau', '1 to 3');
    expectKitError(() => createKnownAnswerTask({ optimalTau: [0.5, -1], positions: 2 }), 'task.optimalTau');
    expectKitError(() => createKnownAnswerTask({ optimalTau: [0.5], positions: 0 }), 'task.difficulty');
  });
});
