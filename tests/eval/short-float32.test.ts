// shortFloat32 (src/eval/evaluate.ts): the traces' float32 values written with the fewest digits that still read back
// as the same float32.
import { describe, expect, it } from 'vitest';
import { shortFloat32 } from '../../src/eval/evaluate';

describe('shortFloat32', () => {
  it('gives the shortest decimal of a float32 value (hand-checked: fround(0.69056982) is the float32 nearest 0.6905698)', () => {
    const x = Math.fround(0.6905698);
    expect(x).toBe(0.6905698180198669);
    expect(shortFloat32(x)).toBe(0.6905698);
    expect(shortFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortFloat32(1)).toBe(1);
    expect(shortFloat32(0)).toBe(0);
  });
  it('always reads back as the same float32, and never lengthens the number', () => {
    const f = new Float32Array(2000);
    for (let i = 0; i < f.length; i++) f[i] = Math.sin(i * 12.9898) * 10 ** ((i % 13) - 6);
    for (const x of f) {
      const y = shortFloat32(x);
      expect(Math.fround(y)).toBe(x);
      expect(String(y).length).toBeLessThanOrEqual(String(x).length);
    }
  });
  it('leaves values that are not float32 (and non-finite ones) unchanged', () => {
    for (const x of [0.1, Math.PI, NaN, Infinity, -Infinity]) expect(Object.is(shortFloat32(x), x)).toBe(true);
  });
});
