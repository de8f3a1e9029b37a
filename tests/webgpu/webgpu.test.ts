// The webgpu backend (Dawn, the optional `webgpu` package) on Mesa's lavapipe software Vulkan driver, so that it is
// tested on machines without a GPU. Skipped unless scripts/fetch-lavapipe.sh has filled vendor/lavapipe/ and the
// optional packages are installed. Each check runs the kit in a child process: Dawn reads VK_ICD_FILENAMES and
// LD_LIBRARY_PATH when the process starts. With INTROLLM_REQUIRE_WEBGPU=1 (CI), a missing lavapipe or package fails.
//   * logits (full and through the KV cache) of the PyTorch-checked fixtures equal the cpu backend's (< 1e-3);
//   * Adam steps lower the loss and match the cpu backend step by step (gradients, AddN over many inputs);
//   * `bench` runs end to end (host sampling reads GPU results synchronously: src/webgpu-node.ts);
//   * auto mode does not pick a software adapter.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const lavapipe = path.join(root, 'vendor', 'lavapipe');
const libdir = path.join(lavapipe, 'root', 'usr', 'lib', 'x86_64-linux-gnu');
const icd = path.join(lavapipe, 'lvp_icd.json');

function resolvable(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

const ready = fs.existsSync(path.join(lavapipe, '.complete')) && fs.existsSync(icd) && resolvable('webgpu') && resolvable('@tensorflow/tfjs-backend-webgpu');

const env: NodeJS.ProcessEnv = {
  ...process.env,
  VK_ICD_FILENAMES: icd,
  VK_DRIVER_FILES: icd,
  LD_LIBRARY_PATH: [libdir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
};
delete env.INTROLLM_BACKEND;

/** Runs node with `args` from the project root under lavapipe; returns stdout, failing the test with stderr otherwise. */
function run(args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const introllm = (...args: string[]) => run(['bin/introllm.js', ...args]);

function maxAbsDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i].length);
    row.forEach((v, j) => {
      m = Math.max(m, Math.abs(v - b[i][j]));
    });
  });
  return m;
}

describe.runIf(process.env.INTROLLM_REQUIRE_WEBGPU === '1' && !ready)('webgpu backend required', () => {
  it('vendor/lavapipe/ and the webgpu packages are present (run scripts/fetch-lavapipe.sh and npm install)', () => {
    expect({
      lavapipe: fs.existsSync(path.join(lavapipe, '.complete')),
      webgpu: resolvable('webgpu'),
      tfjsWebgpu: resolvable('@tensorflow/tfjs-backend-webgpu'),
    }).toEqual({ lavapipe: true, webgpu: true, tfjsWebgpu: true });
  });
});

describe.skipIf(!ready)('webgpu backend on lavapipe', () => {
  it.each(['qwen2-f32', 'qwen3-f32', 'llama-bf16'])('%s: logits and hidden states equal the cpu backend (< 1e-3), full and incremental', (fixture) => {
    const model = path.join('tests', 'fixtures', 'lm', fixture);
    const ids = '1,5,9,3,7,2,11,4';
    for (const mode of ['full', 'incremental']) {
      const gpu = introllm('logits', '--model', model, '--ids', ids, '--mode', mode, '--backend', 'webgpu');
      expect(gpu.stderr).toMatch(/TF\.js backend webgpu \(.*llvmpipe/);
      expect(gpu.stderr).not.toMatch(/validation|Invalid/);
      const cpu = introllm('logits', '--model', model, '--ids', ids, '--mode', mode, '--backend', 'cpu');
      const g = JSON.parse(gpu.stdout);
      const c = JSON.parse(cpu.stdout);
      expect(g.logits.length).toBe(8);
      expect(maxAbsDiff(g.logits, c.logits)).toBeLessThan(1e-3);
      expect(maxAbsDiff(g.hidden, c.hidden)).toBeLessThan(1e-3);
      // Not trivially equal: the logits vary across positions and vocabulary.
      expect(Math.max(...g.logits[0]) - Math.min(...g.logits[0])).toBeGreaterThan(0.1);
    }
  });

  it('Adam steps lower the loss, matching the cpu backend step by step', () => {
    const args = ['-r', 'tsx/cjs', 'scripts/train-check.ts', '--model', 'tests/fixtures/lm/qwen2-f32', '--steps', '5'];
    const gpu = JSON.parse(run([...args, '--backend', 'webgpu']).stdout);
    const cpu = JSON.parse(run([...args, '--backend', 'cpu']).stdout);
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.variables).toBeGreaterThan(8); // AddN over more inputs than a default WebGPU stage can bind
    const l: number[] = gpu.losses;
    for (let i = 1; i < l.length; i++) expect(l[i]).toBeLessThan(l[i - 1]);
    expect(l[l.length - 1]).toBeLessThan(0.5 * l[0]);
    for (const key of ['losses', 'grad_norms']) {
      gpu[key].forEach((v: number, i: number) => expect(Math.abs(v - cpu[key][i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(cpu[key][i]))));
    }
    expect(Math.abs(gpu.logit_sum_after - cpu.logit_sum_after)).toBeLessThan(1e-2);
  });

  it('bench (KV-cache sampling, full recompute, training) runs on webgpu', () => {
    const r = introllm(
      'bench',
      '--model',
      'tests/fixtures/lm/qwen2-f32',
      '--backend',
      'webgpu',
      '--batch',
      '2',
      '--prompt',
      '4',
      '--new',
      '4',
      '--train-steps',
      '1',
      '--json',
    );
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j.backend).toBe('webgpu');
    for (const k of ['decode_tokens_per_s', 'full_recompute_tokens_per_s', 'train_tokens_per_s']) expect(j[k]).toBeGreaterThan(0);
    expect(r.stderr).not.toMatch(/validation|Invalid/);
  });

  it('70k dispatches in one synchronous loop run (bind groups are reused, not piled up until the event loop turns)', () => {
    const r = run(['-r', 'tsx/cjs', 'scripts/webgpu-soak.ts', '--backend', 'webgpu', '--dispatches', '70000']);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ backend: 'webgpu', dispatches: 70000, value: 70000 });
  });

  it('auto mode does not take the software adapter', () => {
    const r = introllm('logits', '--model', 'tests/fixtures/lm/qwen2-f32', '--ids', '1,2');
    expect(r.stderr).toMatch(/TF\.js backend (wasm|tensorflow) /);
  });
});
