// Special functions the temperature heads' log-densities need and TF.js lacks: a differentiable ln Γ (for the Beta
// log-density of the IntroLLM head, log Beta(z; α, β) = (α−1) log z + (β−1) log(1−z) − ln B(α, β)), a gradient stop
// (the detachHidden option) and host-side helpers (softplus, its inverse, logit) used to initialise and sample.
//
// ln Γ(x), x > 0: shift by 8 with Γ(x) = Γ(x + 8) / (x (x+1) … (x+7)), then Stirling's series at y = x + 8 ≥ 8:
//   ln Γ(y) = (y − ½) ln y − y + ½ ln 2π + 1/(12y) − 1/(360y³) + 1/(1260y⁵) − 1/(1680y⁷)   (truncation < 1e-11)
// Built from elementary ops only, so autodiff gives its exact derivative, the digamma function ψ(x) (to the same
// truncation). In float32 the absolute error is about 1e-6 · |ln Γ(x)| plus a few 1e-7: ample for log-densities, but
// ln B(α, β) of very large α, β (≳ 1e4) loses digits to cancellation, as any float32 evaluation would.
import * as tf from '@tensorflow/tfjs';
import { addHostKernel, fusedKernels, runKernel } from '../lm/kernels/fused';

const SHIFT = 8;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

// On the wasm backend ln Γ is one kernel each way (src/lm/kernels/fused.ts, a host kernel: the head's log-densities
// take it of a few thousand values three times per minibatch, where the composed form is ~35 small kernels forward
// and more backward), the same formula in float64, rounded once; its gradient is ψ(x) · dy, digammaNumber below.
addHostKernel({
  name: 'KitLgamma',
  inputs: ['x'],
  outShapes: ([x]) => [x],
  compute([x], [y]) {
    for (let i = 0; i < x.length; i++) y[i] = lgammaNumber(x[i]);
  },
});
addHostKernel({
  name: 'KitLgammaGrad',
  inputs: ['x', 'dy'],
  outShapes: ([x]) => [x],
  compute([x, dy], [dx]) {
    for (let i = 0; i < x.length; i++) dx[i] = dy[i] * digammaNumber(x[i]);
  },
});

const lgammaFused = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: runKernel('KitLgamma', { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => [runKernel('KitLgammaGrad', { x: xs, dy }) as tf.Tensor],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/** ln Γ(x) elementwise for x > 0 (x ≤ 0 gives NaN or garbage; not checked). x: any shape, float32. Same shape out. */
export function lgamma(x: tf.Tensor): tf.Tensor {
  if (fusedKernels() && x.dtype === 'float32') return lgammaFused(x);
  return tf.tidy(() => {
    const y = tf.add(x, SHIFT);
    const r = tf.reciprocal(y);
    const r2 = tf.square(r);
    // Horner form of 1/(12y) − 1/(360y³) + 1/(1260y⁵) − 1/(1680y⁷)
    let s = tf.sub(1 / 1260, tf.mul(r2, 1 / 1680));
    s = tf.sub(1 / 360, tf.mul(r2, s));
    s = tf.mul(r, tf.sub(1 / 12, tf.mul(r2, s)));
    const stirling = tf.add(tf.sub(tf.mul(tf.sub(y, 0.5), tf.log(y)), y), tf.add(s, HALF_LOG_2PI));
    let shift = tf.log(x);
    for (let k = 1; k < SHIFT; k++) shift = tf.add(shift, tf.log(tf.add(x, k)));
    return tf.sub(stirling, shift);
  });
}

/** ln Γ(x) for a number x > 0, same formula in float64 (absolute error < 1e-10 for x ≤ 1e6); NaN for x ≤ 0. */
export function lgammaNumber(x: number): number {
  if (!(x > 0)) return NaN;
  const y = x + SHIFT;
  const r = 1 / y;
  const r2 = r * r;
  const s = r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 / 1680)));
  let shift = 0;
  for (let k = 0; k < SHIFT; k++) shift += Math.log(x + k);
  return (y - 0.5) * Math.log(y) - y + HALF_LOG_2PI + s - shift;
}

/**
 * ψ(x) = d ln Γ(x) / dx for a number x > 0, the derivative of lgammaNumber's formula term by term (the same
 * truncation): ψ(x) = ψ(x + 8) − Σ_{k<8} 1 / (x + k), ψ(y) ≈ ln y − 1/(2y) − 1/(12y²) + 1/(120y⁴) − 1/(252y⁶) + 1/(240y⁸).
 */
export function digammaNumber(x: number): number {
  if (!(x > 0)) return NaN;
  const y = x + SHIFT;
  const r2 = 1 / (y * y);
  const s = r2 * (-1 / 12 + r2 * (1 / 120 + r2 * (-1 / 252 + r2 / 240)));
  let shift = 0;
  for (let k = 0; k < SHIFT; k++) shift += 1 / (x + k);
  return Math.log(y) - 0.5 / y + s - shift;
}

/** Identity in the forward pass, zero gradient in the backward pass (TF.js has no stopGradient op). Any shape. */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/** log(1 + eˣ) without overflow. */
export function softplusNumber(x: number): number {
  return x > 30 ? x : x < -30 ? Math.exp(x) : Math.log1p(Math.exp(x));
}

/** The inverse of softplus: the u with softplus(u) = y, for y > 0. */
export function softplusInverse(y: number): number {
  return y > 20 ? y + Math.log1p(-Math.exp(-y)) : Math.log(Math.expm1(y));
}

/** 1 / (1 + e^{−x}). */
export function sigmoidNumber(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** ln(p / (1 − p)) for p in (0, 1). */
export function logit(p: number): number {
  return Math.log(p) - Math.log1p(-p);
}
