// Loading and saving model weights one tensor at a time (issue 13, item 4): the streaming paths give exactly the bytes
// and the weights the whole-file paths give, leave no file behind when they fail, and keep the KitErrors that name the
// file and tensor. And the fast seeded normal generator behind --random-init: deterministic, and normal.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { openCheckpoint, openModelWeights, saveModelFolder } from '../../src/lm/checkpoint';
import { expectedWeights, loadHfConfig } from '../../src/lm/config';
import { fillNormal } from '../../src/lm/init';
import { loadModel, saveModel, writeRandomModel } from '../../src/lm/load';
import { Decoder, randomWeightSource, transposeHost } from '../../src/lm/model';
import { encodeSafetensors, readSafetensors, SafetensorsReader, StoredDtype, writeSafetensors, writeSafetensorsStreaming } from '../../src/lm/safetensors';
import { Rng } from '../../src/rng';
import { expectKitError, FIXTURES, tempDir, tinyConfig } from '../helpers/kit';

const BACKEND = process.env.INTROLLM_TEST_BACKEND ?? 'wasm';
beforeAll(async () => {
  await initBackend(BACKEND, { log: () => {} });
});

let dir: string;
beforeEach(() => {
  dir = tempDir('stream-');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const bytesOf = (file: string) => new Uint8Array(fs.readFileSync(file));
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Tensors with awkward values (NaN, -0, subnormals, inf), names out of order, a zero-size one. */
function sample(): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map([
    ['z.last', { shape: [2, 3], data: Float32Array.from([1, -0, NaN, Infinity, 1e-40, -2.5]) }],
    ['a.first', { shape: [4], data: Float32Array.from([0.1, 0.2, 65504, -1e-8]) }],
    ['m.empty', { shape: [0, 5], data: new Float32Array(0) }],
    ['b.scalar', { shape: [], data: Float32Array.from([3.25]) }],
  ]);
}

describe('writeSafetensorsStreaming', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as StoredDtype[]) {
    it(`${dtype}: the same bytes as encodeSafetensors, asking for one tensor at a time in name order`, () => {
      const t = sample();
      const file = path.join(dir, `s-${dtype}.safetensors`);
      const asked: string[] = [];
      writeSafetensorsStreaming(
        file,
        [...t].map(([name, x]) => ({ name, shape: x.shape })),
        (name) => {
          asked.push(name);
          return t.get(name)!.data;
        },
        { dtype, metadata: { format: 'pt' } },
      );
      expect(asked).toEqual(['a.first', 'b.scalar', 'm.empty', 'z.last']);
      expect(Buffer.from(bytesOf(file)).equals(Buffer.from(encodeSafetensors(t, { dtype, metadata: { format: 'pt' } })))).toBe(true);
      // writeSafetensors (now streaming too) writes the same file.
      const file2 = path.join(dir, `w-${dtype}.safetensors`);
      writeSafetensors(file2, t, { dtype, metadata: { format: 'pt' } });
      expect(Buffer.from(bytesOf(file2)).equals(Buffer.from(bytesOf(file)))).toBe(true);
    });
  }

  it('a failing read or a wrongly sized tensor leaves no file, and an existing one untouched', () => {
    const t = sample();
    const file = path.join(dir, 'x.safetensors');
    fs.writeFileSync(file, 'old');
    const specs = [...t].map(([name, x]) => ({ name, shape: x.shape }));
    expect(() =>
      writeSafetensorsStreaming(file, specs, (name) => {
        if (name === 'm.empty') throw new Error('device lost');
        return t.get(name)!.data;
      }),
    ).toThrow('device lost');
    expectKitError(
      () => writeSafetensorsStreaming(file, specs, (name) => (name === 'b.scalar' ? new Float32Array(2) : t.get(name)!.data)),
      file,
      "tensor 'b.scalar'",
      'needs 1 values, data has 2',
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['x.safetensors']); // no temp file left
    expectKitError(
      () =>
        writeSafetensorsStreaming(
          file,
          [
            { name: 'a', shape: [1] },
            { name: 'a', shape: [1] },
          ],
          () => new Float32Array(1),
        ),
      "tensor 'a'",
      'twice',
    );
  });
});

describe('SafetensorsReader', () => {
  it('reads each tensor on demand, equal to readSafetensors, and names the file for unknown tensors and reads after close', () => {
    const file = path.join(FIXTURES, 'qwen3-bf16', 'model.safetensors');
    const all = readSafetensors(file);
    const r = SafetensorsReader.open(file);
    expect(r.tensors.map((x) => x.name)).toEqual([...all.keys()]);
    for (const x of r.tensors) {
      expect(x.dtype).toBe('BF16');
      expect(x.shape).toEqual(all.get(x.name)!.shape);
      expect(sameBits(r.read(x.name), all.get(x.name)!.data)).toBe(true);
    }
    expectKitError(() => r.read('nope'), file, "no tensor 'nope'");
    r.close();
    expectKitError(() => r.read(r.tensors[0].name), file, 'after close');
  });

  it('a truncated file fails when opened, naming the file and the tensor', () => {
    const src = path.join(FIXTURES, 'qwen2-f32', 'model.safetensors');
    const file = path.join(dir, 'cut.safetensors');
    const buf = fs.readFileSync(src);
    fs.writeFileSync(file, buf.subarray(0, buf.length - 10));
    // Sorted, the last tensor is model.norm.weight ([16] F32 = 64 bytes): 10 bytes short.
    expectKitError(() => SafetensorsReader.open(file), file, "tensor 'model.norm.weight'", 'truncated');
    fs.writeFileSync(file, buf.subarray(0, 20));
    expectKitError(() => SafetensorsReader.open(file), file, 'header length');
  });
});

describe('model folders tensor by tensor', () => {
  for (const arch of ['llama', 'qwen2', 'qwen3'] as const) {
    it(`${arch}: saveModel (streamed from the variables) writes the bytes of the whole-in-memory path; loadModel (streamed) gives the same weights as the old path, bit for bit`, async () => {
      const cfg = tinyConfig(arch);
      const model = Decoder.random(cfg, 3, { trainable: false });
      const host = await model.toHostWeights();
      await saveModel(dir, model);
      const file = path.join(dir, 'model.safetensors');
      // The old path: every tensor in memory, then one encoded buffer.
      expect(Buffer.from(bytesOf(file)).equals(Buffer.from(encodeSafetensors(host, { metadata: { format: 'pt' } })))).toBe(true);
      const streamed = loadModel(dir, { trainable: false }).model;
      const old = Decoder.fromWeights(loadHfConfig(dir), readSafetensors(file), { trainable: false });
      const a = await streamed.toHostWeights();
      const b = await old.toHostWeights();
      expect([...a.keys()]).toEqual([...expectedWeights(cfg).keys()]);
      for (const [name, t] of a) {
        expect(t.shape).toEqual(b.get(name)!.shape);
        expect(sameBits(t.data, b.get(name)!.data), name).toBe(true);
        expect(sameBits(t.data, host.get(name)!.data), name).toBe(true);
      }
      // And the loaded model computes what the original does.
      const ids = tf.tensor2d([[3, 1, 4, 1, 5]], undefined, 'int32');
      const l1 = model.forward(ids).logits.dataSync();
      const l2 = streamed.forward(ids).logits.dataSync();
      expect(sameBits(l1 as Float32Array, l2 as Float32Array)).toBe(true);
      for (const m of [model, streamed, old]) m.dispose();
    });
  }

  it('sharded and BF16 saves from a WeightSource load like the single file', async () => {
    const cfg = tinyConfig('qwen3');
    const src = randomWeightSource(cfg, 5);
    saveModelFolder(path.join(dir, 'one'), cfg, src);
    saveModelFolder(path.join(dir, 'sharded'), cfg, src, { maxShardBytes: 2000 });
    expect(fs.readdirSync(path.join(dir, 'sharded')).filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThan(2);
    const one = openCheckpoint(path.join(dir, 'one'));
    const sh = openCheckpoint(path.join(dir, 'sharded'));
    expect([...sh.shapes.keys()].sort()).toEqual([...one.shapes.keys()].sort());
    for (const name of one.shapes.keys()) expect(sameBits(sh.read(name), one.read(name)), name).toBe(true);
    one.close();
    sh.close();
    saveModelFolder(path.join(dir, 'bf16'), cfg, src, { dtype: 'BF16' });
    const b = openCheckpoint(path.join(dir, 'bf16'));
    expect(new Set(b.dtypes.values())).toEqual(new Set(['BF16']));
    b.close();
  });

  it('openModelWeights reports a missing or misshapen tensor before reading any data; a truncated folder names file and tensor', () => {
    const cfg = tinyConfig('llama');
    const src = randomWeightSource(cfg, 1);
    saveModelFolder(dir, cfg, src);
    const file = path.join(dir, 'model.safetensors');
    const t = readSafetensors(file);
    t.delete('model.norm.weight');
    writeSafetensors(file, t);
    expectKitError(() => openModelWeights(dir, cfg), dir, "missing tensor 'model.norm.weight'");
    expectKitError(() => loadModel(dir), dir, "missing tensor 'model.norm.weight'");
    saveModelFolder(dir, cfg, src);
    const buf = fs.readFileSync(file);
    fs.writeFileSync(file, buf.subarray(0, buf.length - 4));
    expectKitError(() => loadModel(dir), file, "tensor 'model.norm.weight'", 'truncated');
  });
});

describe('fast seeded normals (fillNormal, Decoder.randomFast)', () => {
  it('the same seed gives the same numbers; another seed others', () => {
    const a = fillNormal(new Float32Array(1000), new Rng(7));
    expect(sameBits(a, fillNormal(new Float32Array(1000), new Rng(7)))).toBe(true);
    const b = fillNormal(new Float32Array(1000), new Rng(8));
    expect(a.filter((x, i) => x === b[i]).length).toBe(0);
    // The rng advances by the four seed words only: the next fill from the same rng is a fresh stream.
    const r = new Rng(7);
    const first = fillNormal(new Float32Array(10), r);
    expect(sameBits(first, fillNormal(new Float32Array(10), r))).toBe(false);
  });

  it('has the standard normal moments and tail probabilities (2^18 draws; tolerances ≥ 4 standard errors)', () => {
    const n = 2 ** 18;
    const x = fillNormal(new Float32Array(n), new Rng(2026));
    let m = 0,
      m2 = 0,
      m4 = 0,
      in1 = 0,
      out2 = 0,
      out3 = 0,
      tail = 0;
    for (const v of x) {
      m += v;
      m2 += v * v;
      m4 += v ** 4;
      const a = Math.abs(v);
      if (a < 1) in1++;
      if (a > 2) out2++;
      if (a > 3) out3++;
      if (a > 3.442619855899) tail++; // drawn by the ziggurat's tail method
    }
    // SE of the mean 1/√n = 0.00195; of the variance √(2/n) = 0.0028; of the 4th moment √(96/n) = 0.019.
    expect(Math.abs(m / n)).toBeLessThan(0.01);
    expect(Math.abs(m2 / n - 1)).toBeLessThan(0.012);
    expect(Math.abs(m4 / n - 3)).toBeLessThan(0.08);
    // P(|z| < 1) = 0.682689, SE 0.00091; P(|z| > 2) = 0.045500, SE 0.00041; P(|z| > 3) = 0.0026998, SE 0.00010.
    expect(Math.abs(in1 / n - 0.682689)).toBeLessThan(0.004);
    expect(Math.abs(out2 / n - 0.0455)).toBeLessThan(0.0017);
    expect(Math.abs(out3 / n - 0.0026998)).toBeLessThan(0.0005);
    // P(|z| > 3.4426) = 5.76e-4: about 151 of n, SD 12.
    expect(tail).toBeGreaterThan(100);
    expect(tail).toBeLessThan(200);
    // Scaled and shifted.
    const y = fillNormal(new Float32Array(n), new Rng(1), 0.02, 5);
    const my = y.reduce((s, v) => s + v, 0) / n;
    expect(Math.abs(my - 5)).toBeLessThan(0.02 * 0.01);
    expect(Math.abs(Math.sqrt(y.reduce((s, v) => s + (v - my) ** 2, 0) / n) - 0.02)).toBeLessThan(0.02 * 0.01);
  });

  it('randomFast: each tensor depends only on the seed and its name; norms are 1, biases 0, matrices std 0.02', async () => {
    const cfg = tinyConfig('qwen2', 300);
    const m1 = Decoder.randomFast(cfg, 11, { trainable: false });
    const w1 = await m1.toHostWeights();
    const w2 = await Decoder.randomFast(cfg, 11, { trainable: false }).toHostWeights();
    const w3 = await Decoder.randomFast(cfg, 12, { trainable: false }).toHostWeights();
    const src = randomWeightSource(cfg, 11);
    for (const [name, t] of w1) {
      expect(sameBits(t.data, w2.get(name)!.data), name).toBe(true);
      expect(sameBits(t.data, src.read(name)), name).toBe(true); // what the source draws, in the HF layout
      if (name.endsWith('norm.weight') || name.endsWith('layernorm.weight')) expect(t.data.every((v) => v === 1)).toBe(true);
      else if (name.endsWith('.bias')) expect(t.data.every((v) => v === 0)).toBe(true);
      else expect(sameBits(t.data, w3.get(name)!.data), name).toBe(false);
    }
    // The embedding, 300 × 16 = 4800 draws: std 0.02 ± 5% (SE of a std estimate ≈ 1/√(2n) = 1%).
    const e = w1.get('model.embed_tokens.weight')!.data;
    const sd = Math.sqrt(e.reduce((s, v) => s + v * v, 0) / e.length);
    expect(Math.abs(sd / 0.02 - 1)).toBeLessThan(0.05);
    // Drawn per name: a model with more layers has the same layer 0.
    const deeper = randomWeightSource({ ...cfg, numLayers: 3 }, 11);
    expect(sameBits(deeper.read('model.layers.0.mlp.up_proj.weight'), src.read('model.layers.0.mlp.up_proj.weight'))).toBe(true);
    m1.dispose();
  });
});

describe('introllm convert --from random (writeRandomModel)', () => {
  it('writes the shape with the weights --random-init draws, and the tokenizer files; a tokenizer folder without them is named', async () => {
    const shape = path.join(dir, 'shape');
    fs.mkdirSync(shape);
    fs.writeFileSync(
      path.join(shape, 'config.json'),
      JSON.stringify({
        model_type: 'qwen3',
        vocab_size: 50,
        hidden_size: 16,
        intermediate_size: 24,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        max_position_embeddings: 64,
        rope_theta: 10000,
        head_dim: 8,
        tie_word_embeddings: false,
        bos_token_id: 1,
        eos_token_id: 2,
      }),
    );
    const tok = path.join(dir, 'tok');
    fs.mkdirSync(tok);
    fs.writeFileSync(path.join(tok, 'tokenizer.json'), '{"t":1}');
    fs.writeFileSync(path.join(tok, 'tokenizer_config.json'), '{}');
    const out = path.join(dir, 'out');
    const r = writeRandomModel({ shapeDir: shape, outDir: out, seed: 4, tokenizerDir: tok });
    expect(r.files).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    // embed 50·16 = 800; per layer ln 16 + q 32·16 + k 16·16 + v 16·16 + q/k norms 8 + 8 + o 16·32 + ln 16 + gate, up,
    // down 3·24·16 = 2736; two layers 5472; final norm 16; untied head 800: 7088.
    expect(r.params).toBe(7088);
    expect(fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8')).toBe('{"t":1}');
    const loaded = await loadModel(out, { trainable: false }).model.toHostWeights();
    const drawn = await loadModel(shape, { trainable: false, randomInit: 4 }).model.toHostWeights();
    for (const [name, t] of drawn) expect(sameBits(t.data, loaded.get(name)!.data), name).toBe(true);
    fs.rmSync(path.join(tok, 'tokenizer_config.json'));
    expectKitError(() => writeRandomModel({ shapeDir: shape, outDir: out, seed: 4, tokenizerDir: tok }), tok, 'tokenizer_config.json');
  });
});

describe('transposeHost', () => {
  it('equals tf.transpose bit for bit on shapes that are not multiples of its 64 × 64 blocks', () => {
    for (const [r, c] of [
      [1, 1],
      [3, 130],
      [129, 65],
      [64, 64],
    ]) {
      const x = fillNormal(new Float32Array(r * c), new Rng(r * 1000 + c));
      const want = tf.tidy(() => tf.transpose(tf.tensor2d(x, [r, c])).dataSync()) as Float32Array;
      expect(sameBits(transposeHost(x, r, c), want), `${r}×${c}`).toBe(true);
    }
  });
});
