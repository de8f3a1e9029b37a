// `introllm reproduce` end to end on a tiny random model (fast): the results folder, summary.json's shape, resuming.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { parseHfConfig } from '../../src/lm/config';
import { saveModel } from '../../src/lm/load';
import { Decoder } from '../../src/lm/model';
import { writeCharTokenizer } from '../../src/lm/tokenizer';
import { SYNTHETIC_CHARSET } from '../../src/tasks/types';
import { tempDir } from '../helpers/kit';

const ROOT = path.join(__dirname, '..', '..');
const dir = tempDir();
const modelDir = path.join(dir, 'model');
beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  writeCharTokenizer(modelDir, SYNTHETIC_CHARSET);
  const m = Decoder.random(parseHfConfig({ model_type: 'qwen3', vocab_size: SYNTHETIC_CHARSET.length + 4, hidden_size: 16, intermediate_size: 24,
    num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, max_position_embeddings: 256, bos_token_id: 1, eos_token_id: 2 }), 0, { std: 0.2 });
  await saveModel(modelDir, m);
  m.dispose();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'introllm.js'), ...args], { encoding: 'utf8', cwd: ROOT });

describe('introllm reproduce', () => {
  it('writes config, manifest, per-run folders, summary.json and the table; a second call reuses finished runs', () => {
    const out = path.join(dir, 'rep');
    const args = ['reproduce', '--preset', 'smoke', '--out', out, '--methods', 'introllm,fixed-0.6', '--seeds', '0,1', '--jobs', '2',
      '--set', `model.dir=${modelDir}`, '--set', 'train.steps=1', '--set', 'rollout.maxNewTokens=8', '--set', 'eval.maxNewTokens=8', '--set', 'eval.problems=4'];
    const r = run(...args);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['config.json', 'figures', 'manifest.json', 'runs', 'summary.json', 'table.md']);
    expect(fs.existsSync(path.join(out, 'figures', 'index.html'))).toBe(true);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(Object.keys(summary.methods)).toEqual(['introllm', 'fixed-0.6']);
    for (const m of Object.values(summary.methods) as Record<string, unknown>[]) {
      expect(m.seeds).toEqual([0, 1]);
      expect(typeof m.accuracy).toBe('number');
      expect((m.ci95 as number[]).length).toBe(2);
      expect(Object.keys(m.pass_at_k as object).sort()).toEqual(['1', '2']);
    }
    expect(r.stdout).toContain('| introllm |');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.sessions.length).toBe(1);
    expect(manifest.sessions[0].runs.length).toBe(4);
    expect(manifest.packages['@tensorflow/tfjs']).toBe('4.22.0');
    const again = run(...args);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('0 runs to do');
    const after = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(after.sessions.map((x: { runs: unknown[] }) => x.runs.length)).toEqual([4, 0]); // the first session's record is kept
  });

  it('a missing model folder is a clear error before anything runs', () => {
    const r = run('reproduce', '--preset', 'smoke', '--out', path.join(dir, 'none'), '--set', 'model.dir=/nonexistent/model');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('model folder /nonexistent/model not found');
  });
});
