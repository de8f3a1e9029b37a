// Model folders: the committed PyTorch fixtures load with the names and shapes their config.json implies; sharded
// saves equal single-file saves; every malformed folder gives a KitError naming the file/tensor and the detail.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectedWeights, loadHfConfig } from '../../src/lm/config';
import { INDEX_FILE, loadCheckpoint, loadModelWeights, saveModelFolder } from '../../src/lm/checkpoint';
import { bf16BitsToF32, f32ToBf16Bits, HostTensor, readSafetensors, writeSafetensors } from '../../src/lm/safetensors';
import { expectKitError } from '../helpers/kit';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'lm');
const ARCHS = ['llama', 'qwen2', 'qwen3'] as const;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of a fixture folder in the temp dir, with its tensors passed through `edit` and rewritten. */
function editedCopy(fixture: string, edit?: (t: Map<string, HostTensor>) => void): string {
  const out = path.join(dir, fixture);
  fs.mkdirSync(out);
  fs.copyFileSync(path.join(FIXTURES, fixture, 'config.json'), path.join(out, 'config.json'));
  const tensors = readSafetensors(path.join(FIXTURES, fixture, 'model.safetensors'));
  edit?.(tensors);
  writeSafetensors(path.join(out, 'model.safetensors'), tensors);
  return out;
}

describe('committed fixtures', () => {
  for (const arch of ARCHS) {
    for (const dt of ['f32', 'bf16'] as const) {
      it(`${arch}-${dt} holds exactly the tensors its config.json implies`, () => {
        const folder = path.join(FIXTURES, `${arch}-${dt}`);
        const cfg = loadHfConfig(folder);
        expect(cfg.modelType).toBe(arch);
        const w = loadModelWeights(folder, cfg);
        const expected = expectedWeights(cfg);
        expect([...w.keys()]).toEqual([...expected.keys()]);
        for (const [name, shape] of expected) {
          const t = w.get(name)!;
          expect(t.shape).toEqual(shape);
          expect(t.dtype).toBe(dt === 'f32' ? 'F32' : 'BF16');
          expect(t.data.length).toBe(shape.reduce((a, b) => a * b, 1));
          expect(t.data.every(Number.isFinite)).toBe(true);
        }
        const ref = JSON.parse(fs.readFileSync(path.join(folder, 'reference.json'), 'utf8'));
        expect(ref.ids.map((s: number[]) => s.length)).toEqual([7, 4]);
        expect(ref.logits[0].length).toBe(7);
        expect(ref.logits[0][0].length).toBe(cfg.vocabSize);
        expect(ref.hidden[1][3].length).toBe(cfg.hiddenSize);
      });
    }
  }

  it('configs exercise the three architectures features', () => {
    const llama = loadHfConfig(path.join(FIXTURES, 'llama-f32'));
    const qwen2 = loadHfConfig(path.join(FIXTURES, 'qwen2-f32'));
    const qwen3 = loadHfConfig(path.join(FIXTURES, 'qwen3-f32'));
    expect([llama.tieWordEmbeddings, llama.attentionBias, llama.numHeads / llama.numKvHeads]).toEqual([false, false, 2]);
    expect([qwen2.tieWordEmbeddings, qwen2.attentionBias, qwen2.numHeads / qwen2.numKvHeads]).toEqual([true, true, 4]);
    expect([qwen3.qkNorm, qwen3.headDim, qwen3.hiddenSize / qwen3.numHeads]).toEqual([true, 16, 4]);
  });

  it('BF16 fixtures (rounded by PyTorch) equal the F32 fixtures rounded by this kit, bit for bit', () => {
    for (const arch of ARCHS) {
      const f32 = readSafetensors(path.join(FIXTURES, `${arch}-f32`, 'model.safetensors'));
      const bf16 = readSafetensors(path.join(FIXTURES, `${arch}-bf16`, 'model.safetensors'));
      expect([...bf16.keys()]).toEqual([...f32.keys()]);
      for (const [name, t] of f32) {
        const rounded = t.data.map((x) => bf16BitsToF32(f32ToBf16Bits(x)));
        expect(bf16.get(name)!.data, name).toEqual(rounded);
      }
    }
  });
});

describe('saveModelFolder / loadCheckpoint', () => {
  it('single-file save round-trips config and weights', () => {
    const src = path.join(FIXTURES, 'qwen3-f32');
    const cfg = loadHfConfig(src);
    const w = loadModelWeights(src, cfg);
    const out = path.join(dir, 'single');
    saveModelFolder(out, cfg, w);
    expect(fs.readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(loadHfConfig(out)).toEqual(cfg);
    const back = loadModelWeights(out, cfg);
    for (const [name, t] of w) expect(back.get(name)!.data, name).toEqual(t.data);
  });

  it('sharded save loads to the same tensors as the single file, and switching layouts removes stale files', () => {
    const src = path.join(FIXTURES, 'llama-f32');
    const cfg = loadHfConfig(src);
    const w = loadModelWeights(src, cfg);
    const out = path.join(dir, 'sharded');
    saveModelFolder(out, cfg, w); // single file first: the sharded save must remove it
    saveModelFolder(out, cfg, w, { maxShardBytes: 16_000 });
    const files = fs.readdirSync(out).sort();
    expect(files).not.toContain('model.safetensors');
    expect(files).toContain(INDEX_FILE);
    const shards = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
    // llama-f32 holds 49,056 bytes of float32 weights: at least four shards of ≤ 16,000 bytes.
    expect(shards.length).toBeGreaterThanOrEqual(4);
    expect(shards[0]).toBe(`model-00001-of-${String(shards.length).padStart(5, '0')}.safetensors`);
    const index = JSON.parse(fs.readFileSync(path.join(out, INDEX_FILE), 'utf8'));
    expect(Object.keys(index.weight_map).sort()).toEqual([...w.keys()].sort());
    const total = [...w.values()].reduce((s, t) => s + 4 * t.data.length, 0);
    expect(index.metadata.total_size).toBe(total);
    for (const s of shards) {
      // Each shard fits unless it holds a single tensor bigger than the limit.
      const st = readSafetensors(path.join(out, s));
      const bytes = [...st.values()].reduce((a, t) => a + 4 * t.data.length, 0);
      expect(bytes <= 16_000 || st.size === 1).toBe(true);
    }
    const sharded = loadCheckpoint(out);
    const single = loadCheckpoint(src);
    expect(new Set(sharded.keys())).toEqual(new Set(single.keys()));
    for (const [name, t] of single) expect(sharded.get(name)!.data, name).toEqual(t.data);
    // Back to a single file: the index and shards go away.
    saveModelFolder(out, cfg, w);
    expect(fs.readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors']);
  });

  it('BF16 save writes BF16 tensors and torch_dtype bfloat16', () => {
    const src = path.join(FIXTURES, 'qwen2-bf16');
    const cfg = loadHfConfig(src);
    const w = loadModelWeights(src, cfg);
    const out = path.join(dir, 'bf16');
    saveModelFolder(out, cfg, w, { dtype: 'BF16' });
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    // The fixture's values are already bf16, so this save is lossless and matches the fixture's file size.
    expect(fs.statSync(path.join(out, 'model.safetensors')).size).toBe(fs.statSync(path.join(src, 'model.safetensors')).size);
    const back = loadModelWeights(out, cfg);
    for (const [name, t] of w) {
      expect(back.get(name)!.dtype).toBe('BF16');
      expect(back.get(name)!.data, name).toEqual(t.data);
    }
  });

  it('refuses to save weights that do not match the config', () => {
    const src = path.join(FIXTURES, 'qwen2-f32');
    const cfg = loadHfConfig(src);
    const w = loadModelWeights(src, cfg);
    w.delete('model.norm.weight');
    expectKitError(() => saveModelFolder(path.join(dir, 'x'), cfg, w), "'model.norm.weight'", 'missing');
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  });
});

describe('loadModelWeights checks against the config', () => {
  it('a missing tensor is named, with the folder', () => {
    const folder = editedCopy('llama-f32', (t) => t.delete('model.layers.1.mlp.up_proj.weight'));
    expectKitError(() => loadModelWeights(folder, loadHfConfig(folder)), folder, "'model.layers.1.mlp.up_proj.weight'", 'missing');
  });

  it('a shape that disagrees names the tensor, the expected and the actual shape', () => {
    const folder = editedCopy('qwen3-f32', (t) => {
      const k = t.get('model.layers.0.self_attn.k_norm.weight')!;
      t.set('model.layers.0.self_attn.k_norm.weight', { ...k, shape: [2, 8] });
    });
    expectKitError(() => loadModelWeights(folder, loadHfConfig(folder)), folder, "'model.layers.0.self_attn.k_norm.weight'", 'shape [2, 8]', 'expected [16]');
  });

  it('unexpected tensors are listed (up to 5)', () => {
    const folder = editedCopy('llama-f32', (t) => {
      for (let i = 0; i < 7; i++) t.set(`extra.${i}`, { shape: [1], data: new Float32Array(1), dtype: 'F32' });
    });
    expectKitError(() => loadModelWeights(folder, loadHfConfig(folder)), folder, "'extra.0'", "'extra.4'", 'and 2 more', 'unexpected');
  });

  it('an untied lm_head in a tied model is accepted and dropped, as are rotary inv_freq buffers', () => {
    const folder = editedCopy('qwen2-f32', (t) => {
      const e = t.get('model.embed_tokens.weight')!;
      t.set('lm_head.weight', { ...e, data: e.data.slice() });
      t.set('model.layers.0.self_attn.rotary_emb.inv_freq', { shape: [3], data: new Float32Array(3), dtype: 'F32' });
    });
    const cfg = loadHfConfig(folder);
    const w = loadModelWeights(folder, cfg);
    expect(w.has('lm_head.weight')).toBe(false);
    expect([...w.keys()]).toEqual([...expectedWeights(cfg).keys()]);
  });

  it('an untied model without lm_head.weight reports it missing', () => {
    // qwen3-f32 is untied: dropping lm_head makes it missing.
    const folder = editedCopy('qwen3-f32', (t) => t.delete('lm_head.weight'));
    expectKitError(() => loadModelWeights(folder, loadHfConfig(folder)), "'lm_head.weight'", 'missing');
  });

  it('unsupported model_type in config.json', () => {
    const folder = editedCopy('llama-f32');
    const cfgFile = path.join(folder, 'config.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), model_type: 'gpt2' }));
    expectKitError(() => loadHfConfig(folder), cfgFile, '"gpt2"', 'llama, qwen2, qwen3');
  });

  it('a truncated fixture copy names the file and the tensor cut off', () => {
    const folder = editedCopy('qwen2-bf16');
    const file = path.join(folder, 'model.safetensors');
    const buf = fs.readFileSync(file);
    fs.writeFileSync(file, buf.subarray(0, buf.length - 100));
    // Sorted, the file ends with layers.1 v_proj (288 bytes) then model.norm.weight (48 bytes): cutting 100 bytes
    // leaves both short, and the reader reports the first in header order.
    expectKitError(() => loadModelWeights(folder, loadHfConfig(folder)), file, "tensor 'model.layers.1.self_attn.v_proj.weight'", 'truncated');
  });

  it('an I64 tensor in a checkpoint', () => {
    const folder = editedCopy('llama-f32');
    const file = path.join(folder, 'model.safetensors');
    const header = { 'model.position_ids': { dtype: 'I64', shape: [1, 2], data_offsets: [0, 16] } };
    const h = Buffer.from(JSON.stringify(header).padEnd(80, ' '));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    fs.writeFileSync(file, Buffer.concat([len, h, Buffer.alloc(16)]));
    expectKitError(() => loadCheckpoint(folder), file, "'model.position_ids'", 'I64', 'F32, F16, BF16');
  });
});

describe('loadCheckpoint folder errors', () => {
  it('missing folder', () => {
    const folder = path.join(dir, 'nothing-here');
    expectKitError(() => loadCheckpoint(folder), 'model folder not found', folder);
  });

  it('a file instead of a folder', () => {
    const f = path.join(dir, 'file');
    fs.writeFileSync(f, 'x');
    expectKitError(() => loadCheckpoint(f), f, 'not a folder');
  });

  it('folder with neither weights file says which files were looked for', () => {
    expectKitError(() => loadCheckpoint(dir), dir, 'model.safetensors', 'model.safetensors.index.json');
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x');
    expectKitError(() => loadCheckpoint(dir), 'pytorch_model.bin', 'not supported');
  });

  it('index that is not JSON, or has no weight_map', () => {
    const index = path.join(dir, INDEX_FILE);
    fs.writeFileSync(index, '{not json');
    expectKitError(() => loadCheckpoint(dir), index, 'not valid JSON');
    fs.writeFileSync(index, JSON.stringify({ metadata: {} }));
    expectKitError(() => loadCheckpoint(dir), index, "'weight_map'");
    fs.writeFileSync(index, JSON.stringify({ weight_map: { w: '../outside.safetensors' } }));
    expectKitError(() => loadCheckpoint(dir), index, "'w'", 'inside the folder');
  });

  it('a shard listed in the index that is missing', () => {
    const cfg = loadHfConfig(path.join(FIXTURES, 'llama-f32'));
    const out = path.join(dir, 'm');
    saveModelFolder(out, cfg, loadModelWeights(path.join(FIXTURES, 'llama-f32'), cfg), { maxShardBytes: 16_000 });
    const shard =
      'model-00002-of-' +
      fs
        .readdirSync(out)
        .find((f) => f.startsWith('model-00001-of-'))!
        .slice(15);
    fs.rmSync(path.join(out, shard));
    expectKitError(() => loadCheckpoint(out), path.join(out, INDEX_FILE), `'${shard}'`, 'not found');
  });

  it('a tensor listed in the index that its shard does not hold', () => {
    writeSafetensors(path.join(dir, 'a.safetensors'), { x: { shape: [1], data: new Float32Array(1) } });
    fs.writeFileSync(path.join(dir, INDEX_FILE), JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'a.safetensors' } }));
    expectKitError(() => loadCheckpoint(dir), INDEX_FILE, "'y'", "'a.safetensors'", 'does not hold');
  });

  it('the same tensor in two shards', () => {
    writeSafetensors(path.join(dir, 'a.safetensors'), { x: { shape: [1], data: new Float32Array(1) } });
    writeSafetensors(path.join(dir, 'b.safetensors'), { x: { shape: [1], data: new Float32Array(1) }, y: { shape: [1], data: new Float32Array(1) } });
    fs.writeFileSync(path.join(dir, INDEX_FILE), JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'b.safetensors' } }));
    expectKitError(() => loadCheckpoint(dir), "'x'", 'a.safetensors', 'b.safetensors');
  });
});
