// Host-side draws for the temperature heads, all from the kit's seeded Rng so that a rollout is reproducible on every
// backend: the Bernoulli gate c_t and the Beta value z_t of the IntroLLM head (paper: c ~ Bernoulli(sigmoid(u_c)),
// z ~ Beta(α, β)), through Gamma draws by Marsaglia & Tsang (2000).
import { Rng } from '../rng';

/**
 * ln of a Gamma(a, 1) draw, a > 0 (Marsaglia–Tsang squeeze/rejection for a ≥ 1). For a < 1 the boost
 * G(a) = G(a + 1) · U^{1/a} is applied in log space, ln G(a + 1) + ln(U)/a, because for small a the draw itself
 * underflows to 0 in floating point while its logarithm is still well defined (Beta needs only the ratio).
 */
export function sampleLogGamma(a: number, rng: Rng): number {
  if (a < 1) {
    const u = 1 - rng.next(); // (0, 1]
    return sampleLogGamma(a + 1, rng) + Math.log(u) / a;
  }
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next(); // (0, 1]
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return Math.log(d * v);
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return Math.log(d * v);
  }
}

/** A Beta(α, β) draw in [0, 1] (α, β > 0): X / (X + Y) = sigmoid(ln X − ln Y) with X ~ Γ(α), Y ~ Γ(β). May be exactly
 *  0 or 1 for tiny shapes; callers clamp before taking log-densities. */
export function sampleBeta(alpha: number, beta: number, rng: Rng): number {
  const lx = sampleLogGamma(alpha, rng);
  const ly = sampleLogGamma(beta, rng);
  const d = ly - lx;
  return d >= 0 ? Math.exp(-d) / (1 + Math.exp(-d)) : 1 / (1 + Math.exp(d));
}

/** 1 with probability p, else 0 (one uniform). */
export function sampleBernoulli(p: number, rng: Rng): 0 | 1 {
  return rng.next() < p ? 1 : 0;
}
