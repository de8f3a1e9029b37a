// The clipped GRPO policy loss and the three aggregations on a 2×3 example worked by hand, its gradient w.r.t.
// logpNew (tf.grad against hand values), the KL estimators, masking (no NaN from −Inf/NaN padding or empty rows),
// tensor hygiene and argument errors.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend';
import { aggregateLoss, LOSS_AGGREGATIONS } from '../../../src/rl/grpo/aggregation';
import { policyLoss, PolicyLossInputs } from '../../../src/rl/grpo/loss';
import { expectKitError } from '../../helpers/kit';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

/** Runs fn inside tf.tidy and returns its host (non-tensor) result; every tensor it made is disposed. */
function hostTidy<T>(fn: () => T): T {
  let out!: T;
  tf.tidy(() => {
    out = fn();
  });
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i], `index ${i}`).toBeCloseTo(expected[i], digits);
}

// The hand example, ε_low = ε_high = 0.2 (band [0.8, 1.2]).
//   row 0, A = +1, mask [1, 1, 1], ratios r = [1, 1.5, 0.5]
//     t0  r = 1    ℓ = −min(1·1, 1·1)       = −1     unclipped: dℓ/dlogp = −A·r = −1
//     t1  r = 1.5  ℓ = −min(1.5, 1.2)        = −1.2   clipped (A > 0, r > 1.2): gradient 0
//     t2  r = 0.5  ℓ = −min(0.5, 0.8)        = −0.5   A > 0 and r < 0.8: clipping does not bind, gradient −A·r = −0.5
//   row 1, A = −2, mask [1, 1, 0], ratios r = [0.5, 1.1, —]
//     t0  r = 0.5  ℓ = −min(−1, 0.8·−2 = −1.6) = 1.6   clipped (A < 0, r < 0.8): gradient 0
//     t1  r = 1.1  ℓ = −min(−2.2, −2.2)       = 2.2   unclipped: gradient −A·r = 2.2
//     t2  masked; logpNew there is −Infinity (padding) and must not matter
//   Σℓ over the 5 tokens = −1 − 1.2 − 0.5 + 1.6 + 2.2 = 1.1; row sums −2.7 and 3.8.
const OLD = [
  [-1, -1, -1],
  [-2, -2, -2],
];
const RATIOS = [
  [1, 1.5, 0.5],
  [0.5, 1.1, 1],
];
const NEW = OLD.map((row, b) => row.map((v, t) => (b === 1 && t === 2 ? -Infinity : v + Math.log(RATIOS[b][t]))));
const ADV = Float32Array.from([1, -2]);
const MASK = [
  [1, 1, 1],
  [1, 1, 0],
];
const RAW_GRAD = [
  [-1, 0, -0.5],
  [0, 2.2, 0],
]; // dℓ_t/dlogpNew_t before aggregation

function inputs(aggregation: string, extra: Partial<PolicyLossInputs> = {}): Omit<PolicyLossInputs, 'logpNew'> {
  return { logpOld: tf.tensor2d(OLD), advantages: ADV, mask: tf.tensor2d(MASK), clipLow: 0.2, clipHigh: 0.2, aggregation, ...extra };
}

/** Loss value, metrics and d loss / d logpNew for the hand example. */
function run(aggregation: string, extra: Partial<PolicyLossInputs> = {}, newLogp: number[][] = NEW) {
  return hostTidy(() => {
    const rest = inputs(aggregation, extra);
    let metrics: ReturnType<typeof policyLoss>['metrics'] | undefined;
    const f = (x: tf.Tensor) => {
      const out = policyLoss({ ...rest, logpNew: x });
      metrics = out.metrics;
      return out.loss;
    };
    const logpNew = tf.tensor2d(newLogp);
    const loss = f(logpNew).dataSync()[0];
    const grad = tf.grad(f)(logpNew).arraySync() as number[][];
    return { loss, grad, metrics: metrics! };
  });
}

describe('policy loss on the 2×3 hand example', () => {
  it('token-mean (DAPO): Σℓ / 5 tokens = 1.1 / 5 = 0.22; gradient = raw / 5', () => {
    const { loss, grad } = run('token-mean');
    expect(loss).toBeCloseTo(0.22, 5);
    expectClose(grad.flat(), [-0.2, 0, -0.1, 0, 0.44, 0]);
  });

  it('seq-mean-token-mean (GRPO): (−2.7/3 + 3.8/2) / 2 = (−0.9 + 1.9) / 2 = 0.5; gradient = raw / (n_i · 2)', () => {
    const { loss, grad } = run('seq-mean-token-mean');
    expect(loss).toBeCloseTo(0.5, 5);
    expectClose(grad.flat(), [-1 / 6, 0, -0.5 / 6, 0, 2.2 / 4, 0]);
  });

  it('seq-mean-token-sum-norm (Dr. GRPO): L = T = 3 → (−2.7 + 3.8) / 3 / 2 = 0.183333; L = 4 → 1.1 / 8', () => {
    const a = run('seq-mean-token-sum-norm');
    expect(a.loss).toBeCloseTo(1.1 / 6, 5);
    expectClose(a.grad.flat(), [-1 / 6, 0, -0.5 / 6, 0, 2.2 / 6, 0]);
    const b = run('seq-mean-token-sum-norm', { normLength: 4 });
    expect(b.loss).toBeCloseTo(0.1375, 5);
    expectClose(b.grad.flat(), [-1 / 8, 0, -0.5 / 8, 0, 2.2 / 8, 0]);
  });

  it('the gradient of an unclipped token is −A·r / normaliser, of a clipped one exactly 0, of a masked one 0', () => {
    const { grad } = run('token-mean');
    expect(grad[0][0]).toBeCloseTo((-1 * 1) / 5, 6); // unclipped, A = 1, r = 1
    expect(grad[1][1]).toBeCloseTo((2 * 1.1) / 5, 6); // unclipped, A = −2, r = 1.1
    expect(grad[0][1]).toBe(0); // r = 1.5 > 1.2 with A > 0
    expect(grad[1][0]).toBe(0); // r = 0.5 < 0.8 with A < 0
    expect(grad[1][2]).toBe(0); // masked, logpNew = −Infinity
    expect(RAW_GRAD[0][2] / 5).toBeCloseTo(grad[0][2], 6); // r < 0.8 with A > 0 is not clipped
  });

  it('metrics: clip fraction 2/5 (one high, one low), ratio mean 4.6/5 = 0.92, min 0.5, max 1.5, 5 tokens in 2 sequences', () => {
    const { loss, metrics } = run('token-mean');
    expect(metrics.loss).toBeCloseTo(loss, 6);
    expect(metrics.pgLoss).toBeCloseTo(0.22, 5);
    expect(metrics.kl).toBeNull();
    expect(metrics.clipFraction).toBeCloseTo(0.4, 6);
    expect(metrics.clipFractionHigh).toBeCloseTo(0.2, 6);
    expect(metrics.clipFractionLow).toBeCloseTo(0.2, 6);
    expect(metrics.ratioMean).toBeCloseTo(0.92, 5);
    expect(metrics.ratioMin).toBeCloseTo(0.5, 6);
    expect(metrics.ratioMax).toBeCloseTo(1.5, 5);
    expect(metrics.numTokens).toBe(5);
    expect(metrics.numSequences).toBe(2);
    // k3(old ‖ new) per token = 1/r + ln r − 1: 0, 0.072132, 0.306853, 0.306853, 0.004401 → mean 0.138048.
    const k3 = [1, 1.5, 0.5, 0.5, 1.1].map((r) => 1 / r + Math.log(r) - 1);
    expect(metrics.approxKlOld).toBeCloseTo(k3.reduce((s, v) => s + v, 0) / 5, 5);
    expect(metrics.approxKlOld).toBeCloseTo(0.138048, 5);
  });

  it('asymmetric clipping (clip-higher): ε_high = 0.6 unclips r = 1.5 (ℓ = −1.5, gradient −1.5 / 5)', () => {
    const { loss, grad, metrics } = run('token-mean', { clipHigh: 0.6 });
    expect(loss).toBeCloseTo((1.1 - 0.3) / 5, 5);
    expect(grad[0][1]).toBeCloseTo(-1.5 / 5, 5);
    expect(metrics.clipFractionHigh).toBe(0);
  });

  it('advantages may be given as a [B] tensor', () => {
    const viaTensor = tf.tidy(() => {
      const out = policyLoss({ ...inputs('token-mean'), advantages: tf.tensor1d(ADV), logpNew: tf.tensor2d(NEW) });
      return out.loss.dataSync()[0];
    });
    expect(viaTensor).toBeCloseTo(0.22, 5);
  });

  it('the same function trains a temperature head: the gradient reaches φ through log π_φ with the shared A', () => {
    // A toy "temperature policy": log π_φ(τ_t) = φ · f_t with features f = [[1, 2, 3], [1, 1, 1]], φ = 0 at rollout
    // time (logpOld = 0, so r = 1 everywhere and nothing clips). token-mean over the 5 unmasked tokens:
    // L = Σ_t −A_i / 5 = (3·(−1) + 2·2) / 5 = 0.2;  dL/dφ = Σ_t −A_i · f_t / 5 = (−(1+2+3) + 2·(1+1)) / 5 = −0.4.
    const phi = tf.variable(tf.scalar(0), true, 'grpo_test_phi');
    const feats = tf.tensor2d([
      [1, 2, 3],
      [1, 1, 1],
    ]);
    let clipFraction = -1;
    const { value, grads } = tf.variableGrads(() => {
      const out = policyLoss({ ...inputs('token-mean'), logpOld: tf.zeros([2, 3]), logpNew: tf.mul(feats, phi) as tf.Tensor2D });
      clipFraction = out.metrics.clipFraction;
      return out.loss;
    }, [phi]);
    expect(value.dataSync()[0]).toBeCloseTo(0.2, 6);
    expect(grads[phi.name].dataSync()[0]).toBeCloseTo(-0.4, 6);
    expect(clipFraction).toBe(0);
    tf.dispose([value, grads[phi.name], phi, feats]);
  });
});

describe('KL to the reference', () => {
  // One row of 3 tokens, A = 0 (so the surrogate is 0), d = ref − new = [ln 2, −ln 2, 0]:
  //   k3 = e^d − d − 1 = [2 − ln2 − 1, 0.5 + ln2 − 1, 0] = [0.306853, 0.193147, 0], token mean 0.5 / 3 = 1/6
  //   dk3/dnew = 1 − e^d = [−1, 0.5, 0]
  //   k1 = −d → mean 0;  k2 = d²/2 → mean (ln 2)² / 3 = 0.160151
  const newLogp = [[-1, -1, -1]];
  const ref = [[-1 + Math.LN2, -1 - Math.LN2, -1]];
  function klRun(extra: Partial<PolicyLossInputs>) {
    return hostTidy(() => {
      const rest: Omit<PolicyLossInputs, 'logpNew'> = {
        logpOld: tf.tensor2d(newLogp),
        advantages: Float32Array.from([0]),
        mask: tf.ones([1, 3]),
        clipLow: 0.2,
        clipHigh: 0.2,
        aggregation: 'token-mean',
        refLogp: tf.tensor2d(ref),
        ...extra,
      };
      let kl: number | null = null;
      const f = (x: tf.Tensor) => {
        const out = policyLoss({ ...rest, logpNew: x });
        kl = out.metrics.kl;
        return out.loss;
      };
      const x = tf.tensor2d(newLogp);
      return { loss: f(x).dataSync()[0], grad: Array.from(tf.grad(f)(x).dataSync()), kl: kl as number | null };
    });
  }

  it('k3 (default) at the hand point: kl = 1/6, loss = klCoef · 1/6, gradient klCoef · [−1, 0.5, 0] / 3', () => {
    const r = klRun({ klCoef: 0.1 });
    expect(r.kl).toBeCloseTo(1 / 6, 5);
    expect(r.loss).toBeCloseTo(0.1 / 6, 6);
    expectClose(r.grad, [-0.1 / 3, 0.05 / 3, 0], 6);
  });

  it('k1 and k2 at the same point: 0 and (ln 2)² / 3', () => {
    expect(klRun({ klCoef: 1, klEstimator: 'k1' }).kl).toBeCloseTo(0, 6);
    expect(klRun({ klCoef: 1, klEstimator: 'k2' }).kl).toBeCloseTo(Math.LN2 ** 2 / 3, 5);
  });

  it('with klCoef 0 the KL is reported but adds nothing to the loss or the gradient', () => {
    const r = klRun({});
    expect(r.kl).toBeCloseTo(1 / 6, 5);
    expect(r.loss).toBe(0);
    expect(r.grad.every((g) => g === 0)).toBe(true);
  });
});

describe('masking', () => {
  const bad = [
    [-1, -1, -1],
    [NaN, -Infinity, Infinity],
  ];
  it('an all-masked row contributes nothing: the loss equals the loss of the other row alone, with finite gradients', () => {
    for (const aggregation of Object.keys(LOSS_AGGREGATIONS)) {
      const both = tf.tidy(() => {
        const rest = {
          logpOld: tf.tensor2d([
            [-1, -1, -1],
            [-1, -1, -1],
          ]),
          advantages: Float32Array.from([1, 5]),
          mask: tf.tensor2d([
            [1, 1, 0],
            [0, 0, 0],
          ]),
          clipLow: 0.2,
          clipHigh: 0.2,
          aggregation,
        };
        const f = (x: tf.Tensor) => policyLoss({ ...rest, logpNew: x }).loss;
        const x = tf.tensor2d(bad);
        return { loss: f(x).dataSync()[0], grad: Array.from(tf.grad(f)(x).dataSync()) };
      });
      const alone = tf.tidy(
        () =>
          policyLoss({
            logpNew: tf.tensor2d([[-1, -1, -1]]),
            logpOld: tf.tensor2d([[-1, -1, -1]]),
            advantages: Float32Array.from([1]),
            mask: tf.tensor2d([[1, 1, 0]]),
            clipLow: 0.2,
            clipHigh: 0.2,
            aggregation,
          }).loss.dataSync()[0],
      );
      expect(both.loss, aggregation).toBeCloseTo(alone, 6);
      expect(both.grad.every(Number.isFinite), aggregation).toBe(true);
      expect(both.grad.slice(3), aggregation).toEqual([0, 0, 0]);
    }
  });

  it('a batch with no tokens gives loss 0, zero gradients and finite metrics', () => {
    for (const aggregation of Object.keys(LOSS_AGGREGATIONS)) {
      const r = hostTidy(() => {
        const rest = {
          logpOld: tf.zeros([2, 3]),
          advantages: Float32Array.from([1, -1]),
          mask: tf.zeros([2, 3]),
          clipLow: 0.2,
          clipHigh: 0.2,
          aggregation,
          refLogp: tf.zeros([2, 3]),
          klCoef: 0.1,
        };
        let m: ReturnType<typeof policyLoss>['metrics'] | undefined;
        const f = (x: tf.Tensor) => {
          const out = policyLoss({ ...rest, logpNew: x });
          m = out.metrics;
          return out.loss;
        };
        const x = tf.tensor2d(bad);
        return { loss: f(x).dataSync()[0], grad: Array.from(tf.grad(f)(x).dataSync()), m: m! };
      });
      expect(r.loss, aggregation).toBe(0);
      expect(
        r.grad.every((g) => g === 0),
        aggregation,
      ).toBe(true);
      expect(r.m).toMatchObject({ numTokens: 0, numSequences: 0, clipFraction: 0, ratioMean: 1, ratioMin: 1, ratioMax: 1, kl: 0 });
    }
  });

  it('aggregateLoss agrees with the formulas on values [[1, 2, 3], [4, 5, 6]], mask [[1, 1, 0], [1, 0, 0]]', () => {
    // token-mean (1 + 2 + 4) / 3 = 7/3; seq-mean-token-mean (1.5 + 4) / 2 = 2.75; sum-norm (3/3 + 4/3) / 2 = 7/6.
    // totalTokens 7 → 7/7 = 1; totalSequences 4 → (1.5 + 4) / 4 = 1.375.
    const v = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const m = tf.tensor2d([
      [1, 1, 0],
      [1, 0, 0],
    ]);
    const value = (name: string, o = {}) => tf.tidy(() => aggregateLoss(name, v, m, o).dataSync()[0]);
    expect(value('token-mean')).toBeCloseTo(7 / 3, 6);
    expect(value('seq-mean-token-mean')).toBeCloseTo(2.75, 6);
    expect(value('seq-mean-token-sum-norm')).toBeCloseTo(7 / 6, 6);
    expect(value('token-mean', { totalTokens: 7 })).toBeCloseTo(1, 6);
    expect(value('seq-mean-token-mean', { totalSequences: 4 })).toBeCloseTo(1.375, 6);
    tf.dispose([v, m]);
  });
});

describe('tensor hygiene', () => {
  it('policyLoss leaves exactly its loss behind, nothing inside tf.tidy, and tf.grad leaks nothing', () => {
    const logpNew = tf.tensor2d(NEW);
    const rest = inputs('seq-mean-token-mean', { klCoef: 0.1 });
    const withRef = { ...rest, refLogp: tf.tensor2d(OLD) };
    const before = tf.memory().numTensors;
    const out = policyLoss({ ...withRef, logpNew });
    expect(tf.memory().numTensors).toBe(before + 1);
    out.loss.dispose();
    tf.tidy(() => {
      policyLoss({ ...withRef, logpNew });
    });
    expect(tf.memory().numTensors).toBe(before);
    const g = tf.grad((x: tf.Tensor) => policyLoss({ ...withRef, logpNew: x }).loss)(logpNew);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logpNew, rest.logpOld, rest.mask, withRef.refLogp]);
  });
});

describe('argument errors name the argument', () => {
  function withInputs(change: (x: PolicyLossInputs) => Partial<PolicyLossInputs>, ...fragments: string[]) {
    tf.tidy(() => {
      const x: PolicyLossInputs = { ...inputs('token-mean'), logpNew: tf.tensor2d(NEW) };
      expectKitError(() => policyLoss({ ...x, ...change(x) }), ...fragments);
    });
  }
  it('shapes', () => {
    withInputs(() => ({ logpNew: tf.zeros([2, 3, 1]) }), 'logpNew', '[B, T]');
    withInputs(() => ({ logpNew: tf.zeros([2, 3], 'int32') }), 'logpNew', 'float32');
    withInputs(() => ({ logpOld: tf.zeros([2, 4]) }), 'logpOld must be [2,3]', '[2,4]');
    withInputs(() => ({ mask: tf.zeros([3, 2]) }), 'mask must be [2,3]');
    withInputs(() => ({ advantages: Float32Array.from([1]) }), 'advantages must be [2]');
    withInputs(() => ({ advantages: tf.zeros([2, 1]) }), 'advantages must be [2]');
    withInputs(() => ({ advantages: Float32Array.from([1, NaN]) }), 'advantages[1]');
    withInputs(() => ({ refLogp: tf.zeros([1, 3]), klCoef: 0.1 }), 'refLogp must be [2,3]');
  });
  it('options', () => {
    withInputs(() => ({ aggregation: 'sum' }), "unknown loss aggregation 'sum'", 'token-mean, seq-mean-token-mean, seq-mean-token-sum-norm');
    withInputs(() => ({ clipLow: 1 }), 'clipLow');
    withInputs(() => ({ clipHigh: -0.1 }), 'clipHigh');
    withInputs(() => ({ klCoef: 0.1 }), 'klCoef', 'refLogp');
    withInputs(() => ({ klCoef: -1 }), 'klCoef');
    withInputs(() => ({ klEstimator: 'k4' as never }), 'klEstimator');
    withInputs(() => ({ normLength: 0 }), 'normLength');
    withInputs(() => ({ totalTokens: NaN }), 'totalTokens');
  });
});
