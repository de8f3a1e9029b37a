// The decoder against the PyTorch reference (tests/fixtures/lm, made by scripts/make-lm-fixtures.py), and its own
// equivalences: KV-cache decoding = full forward, a left-padded batch = each row alone, saved = loaded.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { modelLogits } from '../../src/commands/logits';
import { loadModel, saveModel } from '../../src/lm/load';
import { Decoder } from '../../src/lm/model';
import { uniqueRows } from '../../src/lm/prefill';
import { attention, gatherRows, repeatRows } from '../../src/lm/ops';
import { expectKitError, FIXTURES, tempDir, tinyConfig } from '../helpers/kit';

const BACKEND = process.env.INTROLLM_TEST_BACKEND ?? 'wasm';
beforeAll(async () => {
  await initBackend(BACKEND, { log: () => {} });
});

function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((x, j) => (m = Math.max(m, Math.abs(x - b[i][j])))));
  return m;
}

describe('decoder vs the PyTorch reference', () => {
  const fixtures = fs.readdirSync(FIXTURES).sort();
  it('has all three architectures in F32 and BF16', () => {
    expect(fixtures).toEqual(['llama-bf16', 'llama-f32', 'qwen2-bf16', 'qwen2-f32', 'qwen3-bf16', 'qwen3-f32']);
  });
  for (const name of fixtures) {
    for (const mode of ['full', 'incremental'] as const) {
      it(`${name} ${mode}: logits and hidden states within 1e-4`, () => {
        const ref = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8'));
        const { model } = loadModel(path.join(FIXTURES, name), { trainable: false });
        ref.ids.forEach((ids: number[], i: number) => {
          const out = modelLogits(model, ids, mode);
          expect(out.logits.length).toBe(ids.length);
          // The float32 reference differs from a float64 one by < 5e-6; logits are O(1) (max |logit| 2.6 to 7.9).
          expect(maxAbsDiff(out.logits, ref.logits[i])).toBeLessThan(1e-4);
          expect(maxAbsDiff(out.hidden, ref.hidden[i])).toBeLessThan(1e-4);
        });
        model.dispose();
      });
    }
  }
});

describe('decoder equivalences', () => {
  for (const arch of ['llama', 'qwen2', 'qwen3'] as const) {
    it(`${arch}: the LM head on positions headFrom… only (and prefill lastOnly) gives the bits of slicing the full forward`, () => {
      const model = Decoder.random(tinyConfig(arch), 4, { std: 0.3 });
      const ids = [
        [0, 0, 5, 6, 7, 8, 9, 10],
        [11, 12, 13, 14, 15, 16, 17, 18],
      ];
      const mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
      const before = tf.memory().numTensors;
      for (const from of [0, 3, 7]) {
        const [full, part] = tf.tidy(() => {
          const f = model.forward(tf.tensor2d(ids, [2, 8], 'int32'), mask);
          const p = model.forward(tf.tensor2d(ids, [2, 8], 'int32'), mask, undefined, { headFrom: from });
          expect(p.logits.shape).toEqual([2, 8 - from, 37]);
          expect(p.hidden.shape).toEqual([2, 8 - from, 16]);
          return [
            [tf.slice(f.logits, [0, from, 0], [2, 8 - from, -1]).dataSync(), tf.slice(f.hidden, [0, from, 0], [2, 8 - from, -1]).dataSync()],
            [p.logits.dataSync(), p.hidden.dataSync()],
          ];
        }) as unknown as [Float32Array[], Float32Array[]];
        for (let i = 0; i < 2; i++) expect(Buffer.from(part[i].buffer).equals(Buffer.from(full[i].buffer)), `headFrom ${from}`).toBe(true);
      }
      const c1 = model.createCache(2, 10);
      const c2 = model.createCache(2, 10);
      const [all, last] = tf.tidy(() => [
        tf.slice(model.prefill(c1, tf.tensor2d(ids, [2, 8], 'int32'), mask).logits, [0, 7, 0], [2, 1, -1]).dataSync(),
        model.prefill(c2, tf.tensor2d(ids, [2, 8], 'int32'), mask, { lastOnly: true }).logits.dataSync(),
      ]) as Float32Array[];
      expect(Buffer.from(last.buffer).equals(Buffer.from(all.buffer))).toBe(true);
      // The caches are the same too: the next step gives the same bits.
      const [s1, s2] = tf.tidy(() => [model.decodeStep(c1, [3, 4]).logits.dataSync(), model.decodeStep(c2, [3, 4]).logits.dataSync()]) as Float32Array[];
      expect(Buffer.from(s1.buffer).equals(Buffer.from(s2.buffer))).toBe(true);
      c1.dispose();
      c2.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(() => model.forward(tf.tensor2d(ids, [2, 8], 'int32'), mask, undefined, { headFrom: 8 })).toThrow('headFrom 8');
      model.dispose();
    });
  }

  for (const arch of ['llama', 'qwen2', 'qwen3'] as const) {
    it(`${arch}: prefill + decode steps through the KV cache equal the full forward, with left padding`, () => {
      const model = Decoder.random(tinyConfig(arch), 3, { std: 0.3 });
      const before = tf.memory().numTensors;
      // Row 0 has two pad slots; row 1 is full length.
      const ids = [
        [0, 0, 5, 6, 7, 8, 9, 10],
        [11, 12, 13, 14, 15, 16, 17, 18],
      ];
      const mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
      const full = tf.tidy(() => model.forward(tf.tensor2d(ids, [2, 8], 'int32'), mask).logits.arraySync()) as number[][][];
      const cache = model.createCache(2, 10);
      const P = 4;
      const pre = tf.tidy(() =>
        model
          .prefill(
            cache,
            tf.tensor2d(
              ids.map((r) => r.slice(0, P)),
              [2, P],
              'int32',
            ),
            [0, 0, 1, 1, 1, 1, 1, 1],
          )
          .logits.arraySync(),
      ) as number[][][];
      const steps: number[][][] = [];
      for (let t = P; t < 8; t++) steps.push(tf.tidy(() => model.decodeStep(cache, [ids[0][t], ids[1][t]]).logits.arraySync()) as number[][]);
      cache.dispose();
      for (let b = 0; b < 2; b++) {
        for (let t = 0; t < 8; t++) {
          if (b === 0 && t < 2) continue; // pad positions have no meaning
          const got = t < P ? pre[b][t] : steps[t - P][b];
          expect(maxAbsDiff([got], [full[b][t]])).toBeLessThan(1e-5);
        }
      }
      // The padded row equals the same tokens run alone.
      const alone = tf.tidy(() => model.forward(tf.tensor2d([ids[0].slice(2)], [1, 6], 'int32')).logits.arraySync()) as number[][][];
      expect(maxAbsDiff(alone[0], full[0].slice(2))).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  for (const arch of ['llama', 'qwen2', 'qwen3'] as const) {
    it(`${arch}: decoding writes the KV cache in place (the same cache tensors throughout) and gives the bits of the portable cache + one-hot ⊗ new`, () => {
      const model = Decoder.random(tinyConfig(arch), 6, { std: 0.3 });
      const ids = [
        [0, 5, 6, 7],
        [8, 9, 10, 11],
        [0, 0, 12, 13],
      ];
      const mask = [0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1];
      const run = (inPlace: boolean) => {
        model.setExecution({ inPlaceKv: inPlace });
        const cache = model.createCache(3, 9);
        const seen: number[][] = [];
        tf.tidy(() => {
          model.prefill(cache, tf.tensor2d(ids, [3, 4], 'int32'), mask, { lastOnly: true });
        });
        const k0 = cache.k[0];
        const before = tf.memory().numTensors;
        for (let t = 0; t < 4; t++) seen.push(tf.tidy(() => Array.from(model.decodeStep(cache, [20 + t, 21 - t, 22]).logits.dataSync())));
        expect(tf.memory().numTensors).toBe(before);
        // In place the cache keeps its tensors; the portable way replaces them at every step.
        expect(cache.k[0] === k0).toBe(inPlace);
        seen.push(...cache.k.map((k) => Array.from(k.dataSync())), ...cache.v.map((v) => Array.from(v.dataSync())));
        cache.dispose();
        return seen;
      };
      expect(run(true)).toEqual(run(false));
      model.dispose();
    });
  }

  it('one row and one KV head: the cache gets new tensors on wasm (XNNPACK keeps packed copies of 2-D operands) and decoding still equals the full forward', () => {
    const cfg = tinyConfig('qwen2');
    const model = Decoder.random({ ...cfg, numKvHeads: 1 }, 8, { std: 0.3 });
    const ids = [3, 7, 1, 9, 4, 6];
    const full = tf.tidy(() => Array.from(model.forward(tf.tensor2d([ids], [1, 6], 'int32')).logits.dataSync()));
    const cache = model.createCache(1, 6);
    const got: number[] = tf.tidy(() => Array.from(model.prefill(cache, tf.tensor2d([ids.slice(0, 2)], [1, 2], 'int32')).logits.dataSync()));
    const k0 = cache.k[0];
    for (let t = 2; t < 6; t++) got.push(...tf.tidy(() => Array.from(model.decodeStep(cache, [ids[t]]).logits.dataSync())));
    expect(cache.k[0] === k0).toBe(tf.getBackend() !== 'wasm');
    cache.dispose();
    expect(maxAbsDiff([got], [full])).toBeLessThan(1e-5);
    model.dispose();
  });

  for (const arch of ['llama', 'qwen2', 'qwen3'] as const) {
    it(`${arch}: a prefill of repeated rows (GRPO groups) computes each once and gives the bits of the full prefill`, () => {
      const model = Decoder.random(tinyConfig(arch), 5, { std: 0.3 });
      // Rows 0, 2 and 4 repeat (padding included); 1 and 3 repeat; 5 has the tokens of 1 but another padding.
      const a = [0, 0, 5, 6, 7, 8];
      const b = [9, 10, 11, 12, 13, 14];
      const ids = [a, b, a, b, a, [0, 11, 12, 13, 14, 9]];
      const mask = [a, b, a, b, a, ids[5]].flatMap((r, i) => r.map((_, t) => ((i % 2 === 0 && i < 5 && t < 2) || (i === 5 && t === 0) ? 0 : 1)));
      const run = (share: boolean) => {
        model.setExecution({ sharePrefill: share });
        const cache = model.createCache(6, 9);
        const seen: number[][] = [];
        const pre = model.prefill(cache, tf.tensor2d(ids, [6, 6], 'int32'), mask, { lastOnly: true });
        seen.push(Array.from(pre.logits.dataSync()), Array.from(pre.hidden.dataSync()));
        for (let t = 0; t < 3; t++) {
          const step = model.decodeStep(cache, [20 + t, 21, 20 + t, 22, 23, 21]);
          seen.push(Array.from(step.logits.dataSync()), Array.from(step.hidden.dataSync()));
        }
        seen.push(...cache.k.map((k) => Array.from(k.dataSync())), Array.from(cache.valid), Array.from(cache.nextPos));
        cache.dispose();
        return seen;
      };
      const before = tf.memory().numTensors;
      const shared = tf.tidy(() => run(true));
      const plain = tf.tidy(() => run(false));
      model.setExecution({ sharePrefill: true });
      expect(shared.length).toBe(plain.length);
      shared.forEach((x, i) =>
        expect(
          x.every((v, j) => Object.is(v, plain[i][j])),
          `output ${i}`,
        ).toBe(true),
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(uniqueRows(ids.flat(), mask, 6, 6)).toEqual({ unique: [0, 1, 5], rowOf: Int32Array.from([0, 1, 0, 1, 0, 2]) });
      model.dispose();
    });
  }

  for (const arch of ['llama', 'qwen2', 'qwen3'] as const) {
    it(`${arch}: a training forward sharing each block's prompt among its rows gives the unshared forward's outputs and gradients (1e-5), checkpointed whole or in chunks of blocks, or not at all`, () => {
      const model = Decoder.random(tinyConfig(arch), 6, { std: 0.3 });
      // Three blocks of two rows with one prompt of 5 positions each (left-padded differently); 4 later positions per row.
      const pa = [0, 0, 5, 6, 7];
      const pb = [0, 11, 12, 13, 14];
      const pc = [9, 8, 7, 6, 5];
      const idsOf = (prompts: number[][]) => prompts.map((p, b) => [...p, 20 + b, 21, 22 + (b % 3), 2]);
      const maskOf = (ids: number[][]) => ids.flatMap((row) => row.map((v, t) => (t < 5 && v === 0 ? 0 : 1)));
      const blocks = idsOf([pa, pa, pb, pb, pc, pc]);
      const mask = maskOf(blocks);
      // Padded positions (mask 0) are no query anyone reads: their outputs are left out, as every loss of the kit does.
      const real = (headFrom: number) => tf.reshape(tf.slice(tf.tensor2d(mask, [6, 9]), [0, headFrom], [6, 9 - headFrom]), [6, 9 - headFrom, 1]);
      const loss = (o: { logits: tf.Tensor; hidden: tf.Tensor }, headFrom: number) =>
        tf.add(tf.sum(tf.mul(tf.mul(tf.logSoftmax(o.logits), 0.3), real(headFrom))), tf.sum(tf.mul(tf.square(o.hidden), real(headFrom))));
      const embedRows: number[] = [];
      const embed = model.embedLookup.bind(model);
      model.embedLookup = (x: tf.Tensor) => {
        embedRows.push(x.shape[0]);
        return embed(x);
      };
      const run = (ids: number[][], share: boolean, headFrom: number) =>
        tf.tidy(() => {
          model.setExecution({ sharePrefix: share });
          const fw = () => model.forward(tf.tensor2d(ids, [6, 9], 'int32'), mask, undefined, { headFrom, sharePrefix: 5 });
          const out = fw();
          const vals = [Array.from(tf.mul(out.logits, real(headFrom)).dataSync()), Array.from(tf.mul(out.hidden, real(headFrom)).dataSync())];
          const { grads } = tf.variableGrads(() => loss(fw(), headFrom) as tf.Scalar, model.variables());
          return { vals, grads: model.variables().map((v) => Array.from(grads[v.name].dataSync())), shape: out.logits.shape };
        });
      const close = (a: number[], b: number[], what: string) => {
        const scale = Math.max(1, ...b.map(Math.abs));
        expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]))), what).toBeLessThanOrEqual(1e-5 * scale);
      };
      // Not checkpointed; checkpointed and recomputed whole; recomputed one block (5 + 2 × 4 = 13 positions) at a time.
      for (const exec of [{ checkpointTokens: Infinity }, { checkpointTokens: 0, recomputeTokens: Infinity }, { checkpointTokens: 0, recomputeTokens: 13 }]) {
        model.setExecution(exec);
        for (const headFrom of [4, 0, 6]) {
          const what = `headFrom ${headFrom}, ${JSON.stringify(exec)}`;
          embedRows.length = 0;
          const shared = run(blocks, true, headFrom);
          // The prompts' positions once per block: 3 × 5 + 6 rows × 4 later positions.
          expect(embedRows, what).toEqual([3 * 5 + 6 * 4, 3 * 5 + 6 * 4]);
          embedRows.length = 0;
          const plain = run(blocks, false, headFrom);
          expect(embedRows).toEqual([6 * 9, 6 * 9]);
          expect(shared.shape).toEqual([6, 9 - headFrom, model.cfg.vocabSize]);
          shared.vals.forEach((v, i) => close(v, plain.vals[i], `output ${i}, ${what}`));
          shared.grads.forEach((g, i) => close(g, plain.grads[i], `gradient of ${model.variables()[i].name}, ${what}`));
          // Every parameter gets a gradient (the prompt positions feed the later ones through attention).
          expect(shared.grads.every((g) => g.some((v) => v !== 0))).toBe(true);
        }
      }
      // Rows that are no blocks of one prompt are computed whole.
      embedRows.length = 0;
      run(idsOf([pa, pa, pb, pc, pa, pb]), true, 4);
      expect(embedRows).toEqual([6 * 9, 6 * 9]);
      model.setExecution({ sharePrefix: true, checkpointTokens: 8192, recomputeTokens: 8192 });
      model.dispose();
    });
  }

  it('repeatRows: each row g times in place (tf.tile of the rows, to the bit), its gradient the sum of the copies', () => {
    const x = tf.randomNormal([3, 2, 4], 0, 1, 'float32', 3);
    const got = repeatRows(x, 4);
    expect(got.shape).toEqual([12, 2, 4]);
    expect(Array.from(got.dataSync())).toEqual(Array.from(tf.reshape(tf.tile(tf.expandDims(x, 1), [1, 4, 1, 1]), [12, 2, 4]).dataSync()));
    const w = tf.randomNormal([12, 2, 4], 0, 1, 'float32', 4);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(repeatRows(a, 4), w)))(x);
    // d/dx[i] of Σ w ⊙ repeat(x) = Σ over the copies of row i of w.
    const want = tf.sum(tf.reshape(w, [3, 4, 2, 4]), 1);
    expect(Math.max(...Array.from(tf.sub(dx, want).abs().dataSync()))).toBeLessThanOrEqual(1e-6);
    expect(() => repeatRows(x, 0)).toThrow(/repeatRows: g must be a positive integer, got 0/);
    tf.dispose([x, got, w, dx, want]);
  });

  it("a decoding step's embedding lookup (columns copied from the backend's table) is the gather along the table's second axis to the bit; an id outside the vocabulary is an error naming it", () => {
    const model = Decoder.random(tinyConfig('qwen2'), 8, { std: 0.3 });
    const ids = [0, 5, model.cfg.vocabSize - 1, 5, 17];
    const columns = (model as unknown as { embedColumns(ids: number[]): tf.Tensor }).embedColumns.bind(model);
    const embed = model.variables().find((v) => v.name.includes('embed'))!;
    const got = tf.tidy(() => Array.from(columns(ids).dataSync()));
    const want = tf.tidy(() => Array.from(tf.transpose(tf.gather(embed, tf.tensor1d(ids, 'int32'), 1)).dataSync()));
    expect(got).toEqual(want);
    expect(() => columns([1, model.cfg.vocabSize])).toThrow(new RegExp(`token id ${model.cfg.vocabSize} \\(row 1\\) is outside the vocabulary`));
    model.dispose();
  });

  it('gatherRows (the prefill copying shared rows) is tf.gather along axis 0 to the bit, for float32 and int32; a bad row index is an error naming it', () => {
    const x = tf.randomNormal([3, 2, 5, 4], 0, 1, 'float32', 7);
    const rowOf = Int32Array.from([2, 0, 0, 1, 2, 2, 1]);
    const got = gatherRows(x, rowOf);
    expect(got.shape).toEqual([7, 2, 5, 4]);
    expect(Array.from(got.dataSync())).toEqual(Array.from(tf.gather(x, Array.from(rowOf)).dataSync()));
    const ints = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    expect(gatherRows(ints, rowOf).arraySync()).toEqual(tf.gather(ints, Array.from(rowOf)).arraySync());
    expect(() => gatherRows(x, Int32Array.from([0, 3]))).toThrow(/gatherRows: row index 3 at 1 is outside \[0, 3\)/);
    tf.dispose([x, got, ints]);
  });

  it("embedLookup: the table's columns for the ids, as tf.gather along its second axis (to the bit), and the same gradient", () => {
    const model = Decoder.random(tinyConfig('llama'), 3, { std: 0.3 });
    const ids = tf.tensor1d([3, 0, 7, 3, 11], 'int32');
    const w = tf.randomNormal([5, model.cfg.hiddenSize], 0, 1, 'float32', 10);
    const embed = model.variables().find((v) => v.name.includes('embed'))!;
    const ours = tf.variableGrads(() => tf.sum(tf.mul(model.embedLookup(ids), w)) as tf.Scalar, [embed]);
    const theirs = tf.variableGrads(() => tf.sum(tf.mul(tf.transpose(tf.gather(embed, ids, 1)), w)) as tf.Scalar, [embed]);
    expect(Array.from(model.embedLookup(ids).dataSync())).toEqual(Array.from(tf.transpose(tf.gather(embed, ids, 1)).dataSync()));
    expect(Array.from(ours.grads[embed.name].dataSync())).toEqual(Array.from(theirs.grads[embed.name].dataSync()));
    tf.dispose([ids, w, ours.value, theirs.value, ...Object.values(ours.grads), ...Object.values(theirs.grads)]);
    model.dispose();
  });

  it("a forward frees each layer's intermediates as it goes: live tensors grow by the same few per layer", () => {
    const model = Decoder.random({ ...tinyConfig('qwen2'), numLayers: 4 }, 3);
    const live: number[] = [];
    tf.tidy(() => {
      // kvOut runs inside each layer, after its k and v: the tensors alive then are the earlier layers' leftovers plus
      // this layer's work so far, so the per-layer growth is what a layer leaves behind.
      model.forward(tf.tensor2d([[3, 4, 5, 6, 7, 8]], [1, 6], 'int32'), undefined, () => live.push(tf.memory().numTensors));
    });
    const growth = live.slice(1).map((n, i) => n - live[i]);
    expect(new Set(growth).size).toBe(1);
    // One tensor per layer: its output (the next layer's input). Before, every intermediate stayed (58 per layer).
    expect(growth[0]).toBe(1);
    model.dispose();
  });

  it('saveModel → loadModel reproduces the logits exactly (F32) and within BF16 rounding (BF16)', async () => {
    const dir = tempDir();
    const model = Decoder.random(tinyConfig('qwen3'), 5, { std: 0.3 });
    const ids = [3, 1, 4, 1, 5];
    const want = modelLogits(model, ids, 'full').logits;
    await saveModel(path.join(dir, 'f32'), model);
    await saveModel(path.join(dir, 'bf16'), model, { dtype: 'BF16' });
    const f32 = loadModel(path.join(dir, 'f32')).model;
    const bf16 = loadModel(path.join(dir, 'bf16')).model;
    expect(maxAbsDiff(modelLogits(f32, ids, 'full').logits, want)).toBe(0);
    const d = maxAbsDiff(modelLogits(bf16, ids, 'full').logits, want);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(0.1);
    for (const m of [model, f32, bf16]) m.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('rejects bad inputs with messages that name them', () => {
    const model = Decoder.random(tinyConfig('llama'), 1);
    expectKitError(() => modelLogits(model, [1, 99], 'full'), 'token id 99', 'vocabulary [0, 37)');
    expectKitError(() => model.forward(tf.tensor2d([[1.5]], [1, 1], 'float32') as tf.Tensor2D), 'ids must be an int32 tensor');
    expectKitError(() => model.createCache(1, 65), 'max_position_embeddings 64');
    const cache = model.createCache(1, 2);
    expectKitError(() => model.decodeStep(cache, [1]), 'not prefilled');
    tf.tidy(() => {
      model.prefill(cache, tf.tensor2d([[1, 2]], [1, 2], 'int32'));
    });
    expectKitError(() => model.decodeStep(cache, [1]), 'KV cache is full');
    cache.dispose();
    model.dispose();
  });
});

describe('training', () => {
  it('a step on a fixed batch lowers the loss, moves exactly the optimised parameters and leaks no tensor', () => {
    const model = Decoder.random(tinyConfig('qwen2'), 7, { std: 0.3 });
    const all = model.variables();
    // Optimise everything except the final norm and the first layer's MLP down-projection.
    const frozen = new Set([model.norm.name, model.layers[0].wdown.name]);
    const vars = all.filter((v) => !frozen.has(v.name));
    const snapshot = new Map(all.map((v) => [v.name, v.dataSync().slice()]));
    const opt = tf.train.adam(0.01);
    const seqs = [
      [1, 5, 9, 13, 17, 21],
      [2, 6, 10, 14, 18, 22],
    ];
    const lossOf = () =>
      tf.tidy(() => {
        const logits = model.forward(
          tf.tensor2d(
            seqs.map((s) => s.slice(0, 5)),
            [2, 5],
            'int32',
          ),
        ).logits;
        return tf.losses.softmaxCrossEntropy(
          tf.oneHot(
            tf.tensor2d(
              seqs.map((s) => s.slice(1)),
              [2, 5],
              'int32',
            ),
            37,
          ),
          logits,
        ) as tf.Scalar;
      });
    const first = lossOf();
    const l0 = first.dataSync()[0];
    first.dispose();
    opt.minimize(lossOf, false, vars); // one step to create Adam's slots
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.minimize(lossOf, false, vars);
    expect(tf.memory().numTensors).toBe(before);
    const last = lossOf();
    expect(last.dataSync()[0]).toBeLessThan(l0);
    last.dispose();
    for (const v of all) {
      const same = v.dataSync().every((x, i) => x === snapshot.get(v.name)![i]);
      expect(same, v.name).toBe(frozen.has(v.name));
    }
    opt.dispose();
    model.dispose();
  });

  it('a decoder built with trainable=false is not changed by an optimiser without an explicit var list', () => {
    const model = Decoder.random(tinyConfig('llama'), 2, { trainable: false });
    const head = Decoder.random(tinyConfig('llama'), 3);
    const before = model.embed.dataSync().slice();
    const opt = tf.train.sgd(0.1);
    opt.minimize(() => tf.tidy(() => tf.sum(tf.add(model.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32')).logits, tf.sum(head.norm)))) as tf.Scalar);
    expect(model.embed.dataSync()).toEqual(before);
    opt.dispose();
    model.dispose();
    head.dispose();
  });

  it('the fused attention op: value and the gradients of q, kT and v equal autograd through matMul + softmax', () => {
    const before = tf.memory().numTensors;
    const [R, heads, T, S, hd] = [2, 3, 4, 5, 6];
    const q = tf.randomNormal([R * heads, T, hd], 0, 1, 'float32', 1) as tf.Tensor3D;
    const kT = tf.randomNormal([R * heads, hd, S], 0, 1, 'float32', 2) as tf.Tensor3D;
    const v = tf.randomNormal([R * heads, S, hd], 0, 1, 'float32', 3) as tf.Tensor3D;
    const w = tf.randomNormal([R * heads, T, hd], 0, 1, 'float32', 4);
    // Row 0 hides its first two keys, row 1 its last one.
    const m = new Float32Array(R * T * S);
    for (let t = 0; t < T; t++) {
      m[t * S] = m[t * S + 1] = -1e9;
      m[(T + t) * S + S - 1] = -1e9;
    }
    const mask = tf.tensor4d(m, [R, 1, T, S]);
    const plain = (a: tf.Tensor3D, b: tf.Tensor3D, c: tf.Tensor3D) =>
      tf.matMul(tf.reshape(tf.softmax(tf.add(tf.reshape(tf.matMul(a, b), [R, heads, T, S]), mask)), [R * heads, T, S]) as tf.Tensor3D, c);
    const loss = (f: typeof plain) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D), w));
    const ref = tf.grads(loss(plain))([q, kT, v]);
    const got = tf.grads(loss((a, b, c) => attention(a, b, c, mask)))([q, kT, v]);
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    expect(tf.tidy(() => diff(plain(q, kT, v), attention(q, kT, v, mask)))).toBeLessThan(1e-6);
    ref.forEach((g, i) => expect(diff(g, got[i]), ['dq', 'dkT', 'dv'][i]).toBeLessThan(1e-5));
    // The hidden keys get no gradient.
    const dk = got[1].arraySync() as number[][][];
    expect(dk[0].map((row) => row[0])).toEqual(new Array(hd).fill(0));
    tf.dispose([q, kT, v, w, mask, ...ref, ...got]);
    expect(tf.memory().numTensors).toBe(before);
  });

  for (const arch of ['qwen2', 'qwen3'] as const) {
    it(`${arch}: gradient checkpointing gives the same loss and bit-identical gradients, keeps less on the tape, leaks nothing`, () => {
      const model = Decoder.random(tinyConfig(arch), 5, { std: 0.3 });
      const ids = tf.tensor2d(
        [
          [0, 3, 4, 5, 6, 7],
          [8, 9, 10, 11, 12, 13],
        ],
        [2, 6],
        'int32',
      );
      const mask = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
      const run = (threshold: number) => {
        model.setExecution({ checkpointTokens: threshold });
        let taped = 0;
        const before = tf.memory().numTensors;
        const out = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const y = tf.sum(tf.square(model.forward(ids, mask).logits)) as tf.Scalar;
            taped = tf.memory().numBytes;
            return y;
          }, model.variables());
          return { loss: value.dataSync()[0], grads: model.variables().map((x) => Array.from(grads[x.name].dataSync())) };
        });
        expect(tf.memory().numTensors).toBe(before);
        return { ...out, taped };
      };
      const plain = run(Infinity);
      const ck = run(0);
      expect(ck.loss).toBe(plain.loss);
      ck.grads.forEach((g, i) => expect(g, model.variables()[i].name).toEqual(plain.grads[i]));
      expect(plain.grads.every((g) => g.some((x) => x !== 0))).toBe(true); // every parameter gets a gradient
      expect(ck.taped).toBeLessThan(plain.taped);
      ids.dispose();
      model.dispose();
    });
  }

  for (const arch of ['llama', 'qwen3'] as const) {
    it(`${arch}: a checkpointed layer recomputed a chunk of batch rows at a time gives the loss to the bit and the gradients to 1e-6, leaking nothing`, () => {
      const model = Decoder.random(tinyConfig(arch), 9, { std: 0.3 });
      const ids = tf.tensor2d(
        [
          [0, 3, 4, 5, 6],
          [8, 9, 10, 11, 12],
          [0, 0, 7, 7, 1],
        ],
        [3, 5],
        'int32',
      );
      const mask = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1];
      const run = (chunkTokens: number) => {
        model.setExecution({ checkpointTokens: 0, recomputeTokens: chunkTokens });
        const before = tf.memory().numTensors;
        const out = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(ids, mask).logits)) as tf.Scalar, model.variables());
          return { loss: value.dataSync()[0], grads: model.variables().map((x) => Array.from(grads[x.name].dataSync())) };
        });
        expect(tf.memory().numTensors).toBe(before);
        return out;
      };
      const whole = run(Infinity);
      for (const chunk of [5, 10]) {
        // one batch row per chunk (3 chunks), then two (2 + 1)
        const got = run(chunk);
        expect(got.loss).toBe(whole.loss);
        got.grads.forEach((g, i) => {
          const scale = Math.max(...whole.grads[i].map(Math.abs));
          const diff = Math.max(...g.map((x, j) => Math.abs(x - whole.grads[i][j])));
          expect(diff / scale, `${model.variables()[i].name}, chunks of ${chunk} tokens`).toBeLessThan(1e-6);
        });
      }
      ids.dispose();
      model.dispose();
    });
  }
});
