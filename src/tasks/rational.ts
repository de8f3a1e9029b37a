// Exact rational arithmetic on bigint numerator/denominator pairs, used where an answer must be checked exactly
// (the Countdown verifier, the arithmetic task, exact comparison of fractions and decimals in the math verifier).

export interface Rational {
  n: bigint; // numerator, carries the sign
  d: bigint; // denominator, always > 0
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** n/d in lowest terms; d must be non-zero. */
export function rat(n: bigint | number, d: bigint | number = 1n): Rational {
  let nn = BigInt(n);
  let dd = BigInt(d);
  if (dd === 0n) throw new RangeError('rational: zero denominator');
  if (dd < 0n) {
    nn = -nn;
    dd = -dd;
  }
  const g = gcd(nn, dd) || 1n;
  return { n: nn / g, d: dd / g };
}

export const add = (a: Rational, b: Rational): Rational => rat(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a: Rational, b: Rational): Rational => rat(a.n * b.d - b.n * a.d, a.d * b.d);
export const mul = (a: Rational, b: Rational): Rational => rat(a.n * b.n, a.d * b.d);
/** a / b, or null when b is zero. */
export const div = (a: Rational, b: Rational): Rational | null => (b.n === 0n ? null : rat(a.n * b.d, a.d * b.n));
export const ratEq = (a: Rational, b: Rational): boolean => a.n === b.n && a.d === b.d;
export const ratToString = (a: Rational): string => (a.d === 1n ? a.n.toString() : `${a.n}/${a.d}`);
export const ratToNumber = (a: Rational): number => Number(a.n) / Number(a.d);

/**
 * Parses an exact decimal or fraction: `-12`, `3.250`, `.5`, `-7/4`, `1.5e3`. Returns null for anything else
 * (including exponents beyond ±400, which would make huge bigints).
 */
export function parseRational(text: string): Rational | null {
  const s = text.trim();
  const frac = /^([+-]?\d+)\s*\/\s*([+-]?\d+)$/.exec(s);
  if (frac) {
    const d = BigInt(frac[2]);
    return d === 0n ? null : rat(BigInt(frac[1]), d);
  }
  const m = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/.exec(s);
  if (!m || (!m[2] && !m[3])) return null;
  const sign = m[1] === '-' ? -1n : 1n;
  const intPart = m[2] || '0';
  const fracPart = m[3] || '';
  const exp = m[4] ? parseInt(m[4], 10) : 0;
  if (Math.abs(exp) > 400) return null;
  let num = BigInt(intPart + fracPart) * sign;
  let den = 10n ** BigInt(fracPart.length);
  if (exp >= 0) num *= 10n ** BigInt(exp);
  else den *= 10n ** BigInt(-exp);
  return rat(num, den);
}
