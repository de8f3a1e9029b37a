// Loading a model onto a backend readied for it: the run plan's decisions (matMul route, where θ's optimiser state
// lives) are applied by src/backend.ts before the loader runs, and the loader (src/lm/load.ts) decides nothing about
// the backend. (Its own file: it changes the process's backend and matMul route.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, loadModelOnBackend } from '../src/backend';
import { resolveConfig, setOverrides } from '../src/config';
import { gemmRoute, setGemmRoute } from '../src/lm/kernels/gemm';
import { loadModel } from '../src/lm/load';
import { planFor, runningBackend } from '../src/plan/gather';
import { FIXTURES } from './helpers/kit';

const MODEL = path.join(FIXTURES, 'qwen3-f32');
afterAll(() => setGemmRoute('batched'));
/** What the backend module says (the first initBackend's log receives every later line). */
const lines: string[] = [];

/** The modules a source file imports (relative specifiers resolved against the file's folder, from the repo root). */
function importsOf(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  return [...src.matchAll(/^(?:import|export)[^;]*?from '(\.[^']+)'/gm)].map((m) => path.normalize(path.join(path.dirname(file), m[1])));
}

async function sameWeights(a: ReturnType<typeof loadModel>, b: ReturnType<typeof loadModel>): Promise<void> {
  const wa = await a.model.toHostWeights();
  const wb = await b.model.toHostWeights();
  expect([...wa.keys()].sort()).toEqual([...wb.keys()].sort());
  for (const [name, t] of wa) expect(Array.from(t.data), name).toEqual(Array.from(wb.get(name)!.data));
}

describe('loadModelOnBackend', () => {
  it('no module of the decoder (src/lm/) imports the backend module or the run plan', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(path.join('src', 'lm'));
    expect(files).toContain(path.join('src', 'lm', 'load.ts'));
    const upward = files.flatMap((f) =>
      importsOf(f)
        .filter((m) => m === path.join('src', 'backend') || m.startsWith(path.join('src', 'plan') + path.sep))
        .map((m) => `${f} → ${m}`),
    );
    expect(upward).toEqual([]);
  });

  it("with a run's plan: its matMul route and θ's placement are applied before loading, and the weights are the loader's", async () => {
    const info = await initBackend('auto', { log: (l) => lines.push(l) });
    const plain = loadModel(MODEL, { trainable: false });
    const cfg = resolveConfig({ preset: 'smoke', overrides: setOverrides([`model.dir=${MODEL}`]) });
    const made = planFor(cfg, { backend: runningBackend(), modelDir: MODEL });
    // The plan as a run on a model near the heap's size would have it: every product on the kit's matMul, θ's state
    // on the host.
    const plan = { ...made, gemm: 'all' as const, theta_state: 'host' as const };
    const placed = loadModelOnBackend(MODEL, { trainable: true, plan });
    expect(placed.thetaOnHost).toBe(true);
    expect(placed.config).toEqual(plain.config);
    if (info.name === 'wasm' && tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) expect(gemmRoute()).toBe('all');
    await sameWeights(placed, plain);
    placed.model.dispose();
    // The same plan with θ's state on the device.
    const device = loadModelOnBackend(MODEL, { trainable: false, plan: { ...plan, theta_state: 'device' } });
    expect(device.thetaOnHost).toBe(false);
    device.model.dispose();
    plain.model.dispose();
  });

  it('without a plan, a small model leaves the backend as it is and keeps θ on the device', async () => {
    setGemmRoute('batched');
    await initBackend('auto', { log: (l) => lines.push(l) });
    const before = lines.length;
    const placed = loadModelOnBackend(MODEL, { trainable: true, theta: 'auto' });
    expect(placed.thetaOnHost).toBe(false);
    expect(gemmRoute()).toBe('batched');
    expect(lines.length).toBe(before);
    const drawn = loadModelOnBackend(MODEL, { randomInit: 3 });
    const drawnPlain = loadModel(MODEL, { randomInit: 3 });
    await sameWeights(drawn, drawnPlain);
    for (const m of [placed, drawn, drawnPlain]) m.model.dispose();
  });
});
