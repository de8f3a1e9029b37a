// How a learned head acts in a held-out evaluation (controller.evalAction): 'sample' draws as in training; 'mean' and
// 'mode' are deterministic, with the gate's more probable outcome and the value distribution's mean or mode (hand
// values for set head outputs); training rollouts always sample, whatever evalAction says.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { createController } from '../../src/policy/registry';
import { softplusNumber } from '../../src/policy/special';
import { Rng } from '../../src/rng';
import { disposeInputs, randomInputs, setHeadOutputs } from './helpers';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

const D = 8;
const act = (name: string, evalAction: string, u: number[], evaluation: boolean) => {
  const c = createController(name, { evalAction: evalAction as 'sample' }, D, 1);
  setHeadOutputs(c, u);
  const x = randomInputs(50, D, 5, 2);
  c.beginRollout({ trainStep: 0, batch: 50, evaluation }, new Rng(1));
  const s = c.act(x, new Rng(3));
  disposeInputs(x);
  c.dispose();
  return s;
};

describe('evalAction', () => {
  // gate logit 0.4 (P(open) = 0.60); α = softplus(1.5) + ε, β = softplus(0.2) + ε
  const u = [0.4, 1.5, 0.2];
  const a = softplusNumber(1.5) + 1e-3;
  const b = softplusNumber(0.2) + 1e-3;

  it("'mean': every row opens the gate and takes τ at the Beta's mean", () => {
    const s = act('introllm', 'mean', u, true);
    expect(Array.from(s.gate)).toEqual(new Array(50).fill(1));
    for (const t of s.tau) expect(t).toBeCloseTo(0.4 + (a / (a + b)) * 1.2, 5);
  });

  it("'mode': the Beta's mode when α, β > 1, its mean otherwise; a gate below ½ keeps τ_{t−1}", () => {
    const peaked = [0.4, 2.5, 1.5]; // α ≈ 2.58, β ≈ 1.70: interior mode (α − 1) / (α + β − 2)
    const [pa, pb] = [softplusNumber(2.5) + 1e-3, softplusNumber(1.5) + 1e-3];
    for (const t of act('introllm', 'mode', peaked, true).tau) expect(t).toBeCloseTo(0.4 + ((pa - 1) / (pa + pb - 2)) * 1.2, 5);
    for (const t of act('introllm', 'mode', u, true).tau) expect(t).toBeCloseTo(0.4 + (a / (a + b)) * 1.2, 5); // β < 1
    const closed = act('introllm', 'mean', [-0.4, 1.5, 0.2], true);
    expect(Array.from(closed.gate)).toEqual(new Array(50).fill(0));
  });

  it("'sample' at evaluation, and any evalAction in training, draws τ", () => {
    for (const [how, evaluation] of [
      ['sample', true],
      ['mean', false],
      ['mode', false],
    ] as const) {
      const s = act('introllm', how, u, evaluation);
      expect(new Set(s.gate).size).toBe(2);
      expect(new Set(Array.from(s.tau).filter((_, i) => s.gate[i] === 1)).size).toBeGreaterThan(10);
    }
  });

  it('the categorical head takes its most probable τ; the Gaussian head the squashed μ', () => {
    const cat = act('introllm-categorical', 'mean', [1, 0, 0, 2, 0, 0, 0, 0], true); // 7 bins 0.4 … 1.6, logit 2 at 0.8
    for (const t of cat.tau) expect(t).toBeCloseTo(0.8, 5);
    const g = act('introllm-gaussian', 'mode', [1, 0.3, 0.5], true);
    for (const t of g.tau) expect(t).toBeCloseTo(0.4 + 1.2 / (1 + Math.exp(-0.3)), 5);
  });
});
