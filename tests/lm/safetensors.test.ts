// The safetensors reader/writer: byte layout, F32/F16/BF16 conversions (bit patterns derived by hand in comments),
// round trips, and a KitError naming the file, tensor and detail for every kind of malformed file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  encodeSafetensors,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  readSafetensors,
  readSafetensorsWithMetadata,
  writeSafetensors,
} from '../../src/lm/safetensors';
import { expectKitError } from '../helpers/kit';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes a safetensors file by hand: u64 LE header length, header text (optionally space-padded to 8), data. */
function writeRaw(name: string, header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): string {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const h = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([len, h, Buffer.from(data)]));
  return file;
}

const f32 = (...xs: number[]): Float32Array => Float32Array.from(xs);

describe('bfloat16 conversion', () => {
  it('matches hand-derived bit patterns', () => {
    // 1.0 = float32 0x3F800000 (sign 0, exponent 127, mantissa 0): the high half is 0x3F80.
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    // -2.5 = -1.25 × 2^1: sign 1, exponent 128 = 0x80, mantissa .01 → 1 10000000 0100000… = 0xC0200000 → 0xC020.
    expect(f32ToBf16Bits(-2.5)).toBe(0xc020);
    // 1 + 2^-8 = 0x3F808000 lies exactly halfway between 0x3F80 and 0x3F81: ties to even → 0x3F80.
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    // 1 + 3·2^-8 = 0x3F818000 lies halfway between 0x3F81 and 0x3F82: ties to even → 0x3F82.
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    // Just above the halfway point rounds up.
    expect(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    // Largest float32 0x7F7FFFFF rounds up past bf16's largest finite 0x7F7F into +inf 0x7F80.
    expect(f32ToBf16Bits(3.4028234663852886e38)).toBe(0x7f80);
    expect(f32ToBf16Bits(-Infinity)).toBe(0xff80);
    expect(f32ToBf16Bits(-0)).toBe(0x8000);
    expect(f32ToBf16Bits(NaN) & 0x7fc0).toBe(0x7fc0); // stays a quiet NaN
  });

  it('decodes by shifting the 16 bits up', () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc020)).toBe(-2.5);
    expect(bf16BitsToF32(0x7f80)).toBe(Infinity);
    expect(bf16BitsToF32(0x0001)).toBe(2 ** -133); // the smallest bf16 subnormal: 2^-126 × 2^-7
    expect(Number.isNaN(bf16BitsToF32(0x7fc0))).toBe(true);
  });
});

describe('float16 conversion', () => {
  it('matches hand-derived bit patterns', () => {
    // 1.0: exponent 0 + bias 15 = 0b01111, mantissa 0 → 0 01111 0000000000 = 0x3C00.
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    // 65504 = (2 - 2^-10) × 2^15: exponent 30 = 0b11110, mantissa all ones → 0x7BFF (largest finite).
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    // 2^-24 is the smallest subnormal: exponent field 0, mantissa 1 (value = 1 × 2^-24) → 0x0001.
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001);
    // -2.5 = -1.25 × 2^1: 1 10000 0100000000 = 0xC100.
    expect(f32ToF16Bits(-2.5)).toBe(0xc100);
    // 2^-14 is the smallest normal: exponent field 1 → 0x0400.
    expect(f32ToF16Bits(2 ** -14)).toBe(0x0400);
    // 65520 is halfway between 65504 (0x7BFF) and 65536 (would be 0x7C00): ties to even → 0x7C00 = +inf.
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(65519)).toBe(0x7bff);
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    // 2^-25 is halfway between 0 and 2^-24: ties to even → 0; 3·2^-25 = 1.5 × 2^-24 → even 2 → 0x0002.
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000);
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002);
    expect(f32ToF16Bits(2 ** -25 + 2 ** -40)).toBe(0x0001);
    // 1023.5 × 2^-24 lies between the largest subnormal 0x03FF and the smallest normal 0x0400: even → 0x0400.
    expect(f32ToF16Bits(1023.5 * 2 ** -24)).toBe(0x0400);
    // 1 + 2^-11 is halfway between 0x3C00 and 0x3C01 → 0x3C00; 1 + 3·2^-11 between 0x3C01 and 0x3C02 → 0x3C02.
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // 0.1 → 1.6 × 2^-4: exponent 11 = 0b01011, mantissa round(0.6 × 1024 = 614.4) = 614 = 0x266 → 0x2E66.
    expect(f32ToF16Bits(0.1)).toBe(0x2e66);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(f32ToF16Bits(NaN) & 0x7e00).toBe(0x7e00);
  });

  it('decodes exactly, including subnormals, infinities and NaN', () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0xc100)).toBe(-2.5);
    // 0x3555 = 0 01101 0101010101: exponent 13 - 15 = -2, mantissa 341 → (1 + 341/1024) / 4 = 1365/4096.
    expect(f16BitsToF32(0x3555)).toBe(1365 / 4096);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(Number.isNaN(f16BitsToF32(0x7e00))).toBe(true);
  });

  it('round-trips every finite float16 bit pattern', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // inf / NaN
      expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
    }
  });
});

describe('writeSafetensors / readSafetensors', () => {
  it('lays out the bytes as the format specifies', () => {
    const file = path.join(dir, 'a.safetensors');
    writeSafetensors(file, { b: { shape: [2], data: f32(1, -2.5) }, a: { shape: [], data: f32(0.5) } });
    const buf = fs.readFileSync(file);
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0); // header padded with spaces to a multiple of 8
    const text = buf.toString('utf8', 8, 8 + n);
    expect(text).toMatch(/^\{.*\} *$/);
    // Names sorted: 'a' (4 bytes) first, then 'b' (8 bytes).
    expect(JSON.parse(text)).toEqual({
      a: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    });
    expect(text.indexOf('"a"')).toBeLessThan(text.indexOf('"b"'));
    // 0.5 = 0x3F000000, 1.0 = 0x3F800000, -2.5 = 0xC0200000, little-endian.
    expect([...buf.subarray(8 + n)]).toEqual([0, 0, 0, 0x3f, 0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0]);
    expect(buf.length).toBe(8 + n + 12);
  });

  it('round-trips F32 exactly (NaN, ±inf, -0, float32 subnormals) with metadata', () => {
    const data = f32(0, -0, 1.5, -3.25e-7, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38, Math.PI);
    const big = new Float32Array(1000).map((_, i) => Math.sin(i) * 10 ** ((i % 20) - 10));
    const file = path.join(dir, 'f32.safetensors');
    writeSafetensors(
      file,
      new Map([
        ['x', { shape: [2, 5], data }],
        ['w.big', { shape: [10, 100], data: big }],
      ]),
      {
        metadata: { format: 'pt', note: 'hi' },
      },
    );
    const { tensors, metadata } = readSafetensorsWithMetadata(file);
    expect(metadata).toEqual({ format: 'pt', note: 'hi' });
    expect([...tensors.keys()]).toEqual(['w.big', 'x']);
    const x = tensors.get('x')!;
    expect(x.dtype).toBe('F32');
    expect(x.shape).toEqual([2, 5]);
    expect(new Uint32Array(x.data.slice().buffer)).toEqual(new Uint32Array(data.buffer));
    expect(tensors.get('w.big')!.data).toEqual(big);
  });

  it('writes from a subarray view and reads zero-size tensors', () => {
    const backing = f32(9, 1, 2, 3, 9);
    const file = path.join(dir, 'v.safetensors');
    writeSafetensors(file, { v: { shape: [3], data: backing.subarray(1, 4) }, e: { shape: [0, 4], data: new Float32Array(0) } });
    const t = readSafetensors(file);
    expect([...t.get('v')!.data]).toEqual([1, 2, 3]);
    expect(t.get('e')!.shape).toEqual([0, 4]);
    expect(t.get('e')!.data.length).toBe(0);
  });

  it('round-trips BF16 within its precision, rounding to nearest even', () => {
    const n = 4096;
    const data = new Float32Array(n).map((_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 13) - 6));
    const file = path.join(dir, 'bf16.safetensors');
    writeSafetensors(file, { t: { shape: [64, 64], data } }, { dtype: 'BF16' });
    expect(fs.statSync(file).size).toBeLessThan(8 + 200 + 2 * n);
    const t = readSafetensors(file).get('t')!;
    expect(t.dtype).toBe('BF16');
    for (let i = 0; i < n; i++) {
      // 8 significant bits: unit roundoff 2^-8, so the relative error is at most 2^-8.
      expect(Math.abs(t.data[i] - data[i])).toBeLessThanOrEqual(Math.abs(data[i]) * 2 ** -8);
      expect(bf16BitsToF32(f32ToBf16Bits(data[i]))).toBe(t.data[i]);
    }
    expect([...readSafetensors(writeAndPath('b2', { t: { shape: [2], data: f32(1, -2.5) } }, 'BF16')).get('t')!.data]).toEqual([1, -2.5]);
  });

  it('round-trips F16 within its precision and stores the hand-checked bits', () => {
    const file = writeAndPath('h', { t: { shape: [4], data: f32(1, 65504, 2 ** -24, -2.5) } }, 'F16');
    const buf = fs.readFileSync(file);
    const n = Number(buf.readBigUInt64LE(0));
    expect([...new Uint16Array(buf.buffer.slice(buf.byteOffset + 8 + n, buf.byteOffset + buf.length))]).toEqual([0x3c00, 0x7bff, 0x0001, 0xc100]);
    expect([...readSafetensors(file).get('t')!.data]).toEqual([1, 65504, 2 ** -24, -2.5]);
    const data = new Float32Array(2000).map((_, i) => Math.cos(i * 7.31) * 2 ** ((i % 24) - 12));
    const t = readSafetensors(writeAndPath('h2', { t: { shape: [2000], data } }, 'F16')).get('t')!;
    expect(t.dtype).toBe('F16');
    for (let i = 0; i < data.length; i++) {
      // Normal range (|x| ≥ 2^-14): 11 significant bits, relative error at most 2^-11; below: absolute 2^-25.
      const tol = Math.max(Math.abs(data[i]) * 2 ** -11, 2 ** -25);
      expect(Math.abs(t.data[i] - data[i])).toBeLessThanOrEqual(tol);
    }
  });

  it('reads F16 and BF16 written by hand', () => {
    const bits = new Uint16Array([0x3c00, 0x7bff, 0x0001, 0xc100]);
    const file = writeRaw('h.safetensors', { h: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] } }, new Uint8Array(bits.buffer));
    expect([...readSafetensors(file).get('h')!.data]).toEqual([1, 65504, 2 ** -24, -2.5]);
    const b = new Uint16Array([0x3f80, 0xc020]);
    const f2 = writeRaw('b.safetensors', { b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(b.buffer));
    expect([...readSafetensors(f2).get('b')!.data]).toEqual([1, -2.5]);
  });

  it('reads F32 data that starts at an unaligned offset', () => {
    // The header is not padded: the data starts at a byte offset that is not a multiple of 4.
    const header = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const text = header.padEnd(header.length + ((8 + header.length) % 4 === 0 ? 1 : 0), ' ');
    expect((8 + text.length) % 4).not.toBe(0);
    const file = writeRaw('u.safetensors', text, new Uint8Array(f32(1, -2.5).buffer), false);
    const x = readSafetensors(file).get('x')!;
    expect([...x.data]).toEqual([1, -2.5]);
  });

  it('rejects invalid tensors when writing', () => {
    expectKitError(() => encodeSafetensors({ w: { shape: [2, 3], data: new Float32Array(5) } }, {}, 'out.st'), "out.st: tensor 'w'", '[2, 3]', '6', '5');
    expectKitError(() => encodeSafetensors({ w: { shape: [-1], data: new Float32Array(0) } }), "'w'", 'shape');
    expectKitError(() => encodeSafetensors({ w: { shape: [1], data: [1] as unknown as Float32Array } }), "'w'", 'Float32Array');
    expectKitError(() => encodeSafetensors({ __metadata__: { shape: [1], data: f32(1) } }), '__metadata__');
    expectKitError(() => encodeSafetensors({}, { dtype: 'F64' as 'F32' }), 'F64', 'F32, F16, BF16');
  });
});

function writeAndPath(name: string, t: Record<string, { shape: number[]; data: Float32Array }>, dtype: 'F32' | 'F16' | 'BF16'): string {
  const file = path.join(dir, `${name}.safetensors`);
  writeSafetensors(file, t, { dtype });
  return file;
}

describe('readSafetensors errors', () => {
  const eight = new Uint8Array(8);

  it('missing file', () => {
    const file = path.join(dir, 'nope.safetensors');
    expectKitError(() => readSafetensors(file), file, 'not found');
  });

  it('a folder instead of a file', () => {
    expectKitError(() => readSafetensors(dir), dir, 'not a file');
  });

  it('file shorter than 8 bytes', () => {
    const file = path.join(dir, 'short.safetensors');
    fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    expectKitError(() => readSafetensors(file), file, '3 bytes', 'header length');
  });

  it('garbage bytes: absurd header length', () => {
    const file = path.join(dir, 'garbage.safetensors');
    fs.writeFileSync(file, Buffer.from('this is not a safetensors file at all, just text'));
    expectKitError(() => readSafetensors(file), file, 'header length', 'does not fit', 'not a safetensors file');
  });

  it('header length past the end of the file', () => {
    const buf = Buffer.alloc(16);
    buf.writeBigUInt64LE(100n);
    const file = path.join(dir, 'long.safetensors');
    fs.writeFileSync(file, buf);
    expectKitError(() => readSafetensors(file), file, 'header length 100', '16 bytes', 'truncated');
  });

  it('header not valid JSON', () => {
    const file = writeRaw('bad.safetensors', '{"x": {"dtype": ');
    expectKitError(() => readSafetensors(file), file, 'not valid JSON');
  });

  it('header not an object', () => {
    expectKitError(() => readSafetensors(writeRaw('arr.safetensors', '[1,2]')), 'arr.safetensors', 'JSON object', 'array');
    expectKitError(() => readSafetensors(writeRaw('num.safetensors', '42')), 'num.safetensors', 'JSON object', '42');
  });

  it('entry with missing or invalid dtype, shape or data_offsets', () => {
    const f1 = writeRaw('e1.safetensors', { w: { shape: [2], data_offsets: [0, 8] } }, eight);
    expectKitError(() => readSafetensors(f1), f1, "tensor 'w'", "'dtype'");
    const f2 = writeRaw('e2.safetensors', { w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, eight);
    expectKitError(() => readSafetensors(f2), f2, "tensor 'w'", "'shape'", '[2.5]');
    const f3 = writeRaw('e3.safetensors', { w: { dtype: 'F32', shape: [2] } }, eight);
    expectKitError(() => readSafetensors(f3), f3, "tensor 'w'", "'data_offsets'");
    const f4 = writeRaw('e4.safetensors', { w: { dtype: 'F32', shape: [2], data_offsets: [0, 4, 8] } }, eight);
    expectKitError(() => readSafetensors(f4), f4, "tensor 'w'", "'data_offsets'", '[0,4,8]');
    const f5 = writeRaw('e5.safetensors', { w: 'F32' }, eight);
    expectKitError(() => readSafetensors(f5), f5, "tensor 'w'", 'must be an object');
  });

  it('unsupported dtypes name the file, tensor and dtype and list the supported ones', () => {
    for (const dtype of ['I64', 'F64', 'I32', 'U8', 'BOOL', 'F8_E4M3']) {
      const f = writeRaw(`${dtype}.safetensors`, { 'model.pos_ids': { dtype, shape: [1], data_offsets: [0, 8] } }, eight);
      expectKitError(() => readSafetensors(f), f, "tensor 'model.pos_ids'", `dtype ${dtype}`, 'supported dtypes: F32, F16, BF16');
    }
  });

  it('offsets outside the data section, or ending before they begin', () => {
    const f1 = writeRaw('o1.safetensors', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, eight);
    expectKitError(() => readSafetensors(f1), f1, "tensor 'w'", '[0, 16]', 'outside the data section (8 bytes)');
    const f2 = writeRaw('o2.safetensors', { w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, eight);
    expectKitError(() => readSafetensors(f2), f2, "tensor 'w'", '[8, 4]', 'end before they begin');
  });

  it('byte length that disagrees with shape × dtype size', () => {
    const f = writeRaw('len.safetensors', { w: { dtype: 'BF16', shape: [3], data_offsets: [0, 8] } }, eight);
    expectKitError(() => readSafetensors(f), f, "tensor 'w'", '8 bytes', '[3]', 'BF16', 'needs 6');
  });

  it('overlapping tensors', () => {
    const f = writeRaw(
      'ov.safetensors',
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      },
      eight,
    );
    expectKitError(() => readSafetensors(f), f, "'a'", "'b'", 'overlap');
  });

  it('truncated copies of a real file: in the data and in the header', () => {
    const src = path.join(dir, 'full.safetensors');
    writeSafetensors(src, { 'a.weight': { shape: [4, 4], data: new Float32Array(16).fill(1) }, 'z.weight': { shape: [8], data: new Float32Array(8) } });
    const buf = fs.readFileSync(src);
    const cut = path.join(dir, 'cut.safetensors');
    fs.writeFileSync(cut, buf.subarray(0, buf.length - 10));
    // z.weight is stored last (sorted names), so it is the tensor that runs past the end.
    expectKitError(() => readSafetensors(cut), cut, "tensor 'z.weight'", 'truncated');
    fs.writeFileSync(cut, buf.subarray(0, 20));
    expectKitError(() => readSafetensors(cut), cut, 'header length', 'truncated');
  });
});
