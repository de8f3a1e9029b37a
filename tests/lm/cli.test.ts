// The `introllm logits` and `introllm bench` commands end to end, as a user runs them (node bin/introllm.js).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/kit';

const BIN = path.join(__dirname, '..', '..', 'bin', 'introllm.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('introllm logits', () => {
  it('prints the reference logits and hidden states of a fixture, in both modes', () => {
    const dir = path.join(FIXTURES, 'qwen3-f32');
    const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
    const ids: number[] = ref.ids[1];
    for (const mode of ['full', 'incremental']) {
      const r = run('logits', '--model', dir, '--ids', ids.join(','), '--mode', mode, '--backend', 'cpu');
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.logits.length).toBe(ids.length);
      expect(out.hidden[0].length).toBe(16);
      for (let t = 0; t < ids.length; t++) {
        out.logits[t].forEach((x: number, v: number) => expect(Math.abs(x - ref.logits[1][t][v])).toBeLessThan(1e-4));
      }
    }
  });

  it('bad input: clear message, exit code 2, no stack trace', () => {
    const cases: [string[], string][] = [
      [['logits', '--model', '/nonexistent/model', '--ids', '1'], 'model folder not found: /nonexistent/model'],
      [['logits', '--model', path.join(FIXTURES, 'llama-f32'), '--ids', '1,x'], "item 2 ('x') is not a non-negative integer"],
      [['logits', '--model', path.join(FIXTURES, 'llama-f32'), '--ids', '1', '--mode', 'fast'], "--mode must be 'full' or 'incremental'"],
      [['logits', '--model', path.join(FIXTURES, 'llama-f32'), '--ids', '1', '--backend', 'tpu'], "unknown backend 'tpu'"],
      [['logits', '--ids', '1'], '--model is required'],
      [['logits', '--modle', 'x'], "Unknown option '--modle'"],
      [['nosuch'], "unknown command 'nosuch'"],
    ];
    for (const [args, msg] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('introllm bench', () => {
  it('prints one JSON line with the throughput fields', () => {
    const r = run(
      'bench',
      '--model',
      path.join(FIXTURES, 'llama-f32'),
      '--batch',
      '2',
      '--prompt',
      '3',
      '--new',
      '3',
      '--train-steps',
      '1',
      '--json',
      '--backend',
      'wasm',
    );
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(1);
    const out = JSON.parse(lines[0]);
    expect(out.backend).toBe('wasm');
    for (const k of ['decode_tokens_per_s', 'full_recompute_tokens_per_s', 'train_tokens_per_s', 'peak_rss_mb', 'peak_tensor_mb']) {
      expect(out[k], k).toBeGreaterThan(0);
    }
    expect(r.stderr).toContain('introllm: TF.js backend wasm');
  });
});
