// ln Γ against hand values and its gradient against digamma values, composed of elementary ops (cpu) and as the wasm
// backend's fused kernel; the two against each other; the float64 twins (ln Γ and ψ), and the gradient stop.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { fusedKernels, setFusedKernels } from '../../src/lm/kernels/fused';
import { digammaNumber, lgamma, lgammaNumber, softplusInverse, softplusNumber, stopGradient } from '../../src/policy/special';

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  await initBackend('cpu', { log: () => {} });
});

// Hand values: Γ(1) = 1 → 0; Γ(½) = √π → ln √π = ½ ln π = 0.5723649429247001; Γ(5) = 4! = 24 → ln 24;
// ln Γ(0.1) = 2.252712651734206 (tables); Γ(2) = 1 → 0; ln Γ(100) = ln 99! = 359.1342053695754.
const X = [1, 0.5, 5, 0.1, 2, 100];
const LG = [0, 0.5 * Math.log(Math.PI), Math.log(24), 2.252712651734206, 0, 359.1342053695754];
// ψ(1) = −γ = −0.5772156649; ψ(½) = −γ − 2 ln 2 = −1.9635100260; ψ(5) = −γ + 1 + ½ + ⅓ + ¼ = 1.5061176684;
// ψ(0.1) = −10.4237549404; ψ(2) = 1 − γ = 0.4227843351; ψ(100) = 4.6001618527.
const PSI = [-0.5772156649, -1.963510026, 1.5061176684, -10.4237549404, 0.4227843351, 4.6001618527];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`lgamma on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
    });

    it('is the fused kernel on wasm only', () => {
      expect(fusedKernels()).toBe(backend === 'wasm');
    });

    it('matches hand values in float32', () => {
      const got = tf.tidy(() => lgamma(tf.tensor1d(X)).arraySync() as number[]);
      got.forEach((g, i) => expect(Math.abs(g - LG[i]), `lgamma(${X[i]})`).toBeLessThan(2e-6 * Math.max(1, Math.abs(LG[i])) + 1e-6));
    });

    it('has the digamma function as its gradient', () => {
      const g = tf.tidy(
        () =>
          tf
            .grad((x: tf.Tensor) => tf.sum(lgamma(x)))(tf.tensor1d(X))
            .arraySync() as number[],
      );
      g.forEach((v, i) => expect(Math.abs(v - PSI[i]), `psi(${X[i]})`).toBeLessThan(2e-5 * Math.max(1, Math.abs(PSI[i]))));
    });

    it('float64 twin matches the hand values to 1e-10 and the tensor version across a grid', () => {
      X.forEach((x, i) => expect(Math.abs(lgammaNumber(x) - LG[i])).toBeLessThan(1e-10 * Math.max(1, LG[i])));
      const grid = [1e-3, 0.01, 0.3, 0.77, 1.5, 3.3, 7.9, 12, 50, 1000];
      const t = tf.tidy(() => lgamma(tf.tensor1d(grid)).arraySync() as number[]);
      grid.forEach((x, i) => expect(Math.abs(t[i] - lgammaNumber(x))).toBeLessThan(2e-6 * Math.max(1, Math.abs(lgammaNumber(x)))));
      expect(Number.isNaN(lgammaNumber(0))).toBe(true);
    });

    it('leaks no tensors', () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        tf.grad((x: tf.Tensor) => tf.sum(lgamma(x)))(tf.tensor1d(X));
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('lgamma, fused (wasm) and composed', () => {
  it("agree in value and gradient over four decades, and ψ is lgammaNumber's derivative", async () => {
    await tf.setBackend('wasm');
    const grid = [1e-3, 0.02, 0.3, 0.77, 1, 1.5, 3.3, 7.9, 12, 50, 1000, 3e4];
    const both = (on: boolean) => {
      setFusedKernels(on);
      try {
        return tf.tidy(() => {
          const x = tf.tensor1d(grid);
          return [
            lgamma(x).arraySync() as number[],
            tf
              .grad((v: tf.Tensor) => tf.sum(lgamma(v)))(x)
              .arraySync() as number[],
          ];
        });
      } finally {
        setFusedKernels(true);
      }
    };
    const [fv, fg] = both(true);
    const [cv, cg] = both(false);
    grid.forEach((x, i) => {
      expect(Math.abs(fv[i] - cv[i]), `lgamma(${x})`).toBeLessThan(2e-6 * Math.max(1, Math.abs(cv[i])));
      expect(Math.abs(fg[i] - cg[i]), `psi(${x})`).toBeLessThan(1e-5 * Math.max(1, Math.abs(cg[i])));
      // float64: the central difference of lgammaNumber
      const h = 1e-5 * x;
      expect(Math.abs(digammaNumber(x) - (lgammaNumber(x + h) - lgammaNumber(x - h)) / (2 * h))).toBeLessThan(1e-6 * Math.max(1, Math.abs(digammaNumber(x))));
    });
    PSI.forEach((p, i) => expect(Math.abs(digammaNumber(X[i]) - p)).toBeLessThan(1e-9 * Math.max(1, Math.abs(p))));
    expect(Number.isNaN(digammaNumber(0))).toBe(true);
    await tf.setBackend('cpu');
  });
});

describe('stopGradient and softplus helpers', () => {
  it('stopGradient is the identity forward and zero backward', () => {
    const x = tf.tensor1d([1, -2, 3]);
    const y = stopGradient(x);
    expect(y.arraySync()).toEqual([1, -2, 3]);
    // d/dx Σ (x² + stop(x)²) = 2x only
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.add(tf.square(v), tf.square(stopGradient(v)))))(x);
    expect(g.arraySync()).toEqual([2, -4, 6]);
    tf.dispose([x, y, g]);
  });

  it('softplusInverse inverts softplus over a wide range', () => {
    for (const y of [1e-4, 0.01, 0.5, 1, 2, 10, 25, 100]) expect(softplusNumber(softplusInverse(y))).toBeCloseTo(y, 10);
  });
});
