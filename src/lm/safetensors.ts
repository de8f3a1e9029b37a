// The safetensors file format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}, then the raw
// little-endian tensor bytes. This file reads F32/F16/BF16 tensors into float32 host arrays and writes float32
// host arrays as F32, F16 or BF16. Model folders (single file or sharded) are handled in ./checkpoint.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { KitError } from '../errors';
import { writeFileAtomicWith } from '../io/atomic';

export type StoredDtype = 'F32' | 'F16' | 'BF16';
export const SUPPORTED_DTYPES: readonly StoredDtype[] = ['F32', 'F16', 'BF16'];
const DTYPE_BYTES: Record<StoredDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/** A tensor in host memory. `data` is always float32, row-major; `dtype` says how it was stored on disk. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
  dtype: StoredDtype;
}

/** What the writers accept: a float32 array and its shape. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

export type TensorMap = Map<string, TensorData> | Record<string, TensorData>;

export interface WriteOptions {
  /** On-disk dtype (default F32). F16/BF16 round to nearest, ties to even. */
  dtype?: StoredDtype;
  /** String key/value pairs stored under "__metadata__". */
  metadata?: Record<string, string>;
}

/** The reference implementation refuses headers over 100 MB; a larger length means garbage, not a model. */
const MAX_HEADER_BYTES = 100_000_000;

if (os.endianness() !== 'LE') {
  // Typed-array views below assume a little-endian host (every platform Node ships for in practice).
  throw new Error('safetensors.ts assumes a little-endian host');
}

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;
/** The number of elements of a tensor of this shape. */
export const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------------------------
// Half-precision conversions.

let f16Table: Float32Array | null = null;

/** float32 value of an IEEE binary16 bit pattern (exact: subnormals, ±inf and NaN included). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals: mant × 2^-24
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function f16ToF32Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32(h);
  }
  return f16Table;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The bits of a float32 value. */
function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

/** bfloat16 bits of a float32 bit pattern, round to nearest, ties to even; NaN stays a (quiet) NaN. */
function bf16FromF32Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x0040) & 0xffff;
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff; // a carry out of the mantissa correctly bumps the exponent (→ inf)
}

/** binary16 bits of a float32 bit pattern, round to nearest, ties to even; overflow → ±inf. */
function f16FromF32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15; // binary16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal result: value = m × 2^(exp-150); in units of 2^-24 that is m >> (14 - e).
    const shift = 14 - e;
    if (shift > 24) return sign; // below half the smallest subnormal
    const m = mant | 0x800000;
    let q = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && q & 1)) q++;
    return sign | q; // q = 0x400 is exactly the smallest normal
  }
  let q = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && q & 1)) q++; // a carry into exponent 31 gives inf, as it should
  return sign | q;
}

/** bfloat16 bits of a number (rounded to float32 first). */
export function f32ToBf16Bits(x: number): number {
  return bf16FromF32Bits(f32Bits(x));
}

/** binary16 bits of a number (rounded to float32 first). */
export function f32ToF16Bits(x: number): number {
  return f16FromF32Bits(f32Bits(x));
}

/** float32 value of a bfloat16 bit pattern (exact: the 16 bits become the high half of a float32). */
export function bf16BitsToF32(b: number): number {
  scratchU32[0] = (b & 0xffff) << 16;
  return scratchF32[0];
}

// ---------------------------------------------------------------------------------------------------------------
// Reading.

interface Entry {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Reads exactly target.length bytes at `position` (readSync may return fewer per call). */
function readAt(fd: number, file: string, target: Uint8Array, position: number): void {
  let off = 0;
  while (off < target.length) {
    const n = fs.readSync(fd, target, off, Math.min(target.length - off, 1 << 30), position + off);
    if (n === 0) throw new KitError(`${file}: unexpected end of file at byte ${position + off} (the file is truncated)`);
    off += n;
  }
}

function parseHeader(file: string, fd: number, size: number): { entries: Entry[]; dataStart: number; metadata: Record<string, string> } {
  if (size < 8) {
    throw new KitError(`${file}: not a safetensors file (${size} bytes; the 8-byte header length is missing)`);
  }
  const lenBuf = Buffer.alloc(8);
  readAt(fd, file, lenBuf, 0);
  const headerLen = lenBuf.readBigUInt64LE(0);
  if (headerLen > BigInt(size - 8)) {
    throw new KitError(`${file}: header length ${headerLen} does not fit the file (${size} bytes): ` + `the file is truncated or not a safetensors file`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw new KitError(`${file}: header length ${headerLen} exceeds the format's ${MAX_HEADER_BYTES}-byte limit: not a safetensors file`);
  }
  const dataStart = 8 + Number(headerLen);
  const headerBuf = Buffer.alloc(Number(headerLen));
  readAt(fd, file, headerBuf, 8);
  let header: unknown;
  try {
    header = JSON.parse(headerBuf.toString('utf8'));
  } catch (e) {
    throw new KitError(`${file}: header is not valid JSON (${(e as Error).message}); not a safetensors file?`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new KitError(`${file}: header must be a JSON object, got ${Array.isArray(header) ? 'an array' : JSON.stringify(header)}`);
  }
  const dataLen = size - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new KitError(`${file}: "__metadata__" must be an object of strings`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) metadata[k] = String(v);
      continue;
    }
    const at = `${file}: tensor '${name}'`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new KitError(`${at}: header entry must be an object`);
    const r = raw as Record<string, unknown>;
    if (typeof r.dtype !== 'string') throw new KitError(`${at}: missing or invalid 'dtype' (${JSON.stringify(r.dtype)})`);
    if (!(SUPPORTED_DTYPES as readonly string[]).includes(r.dtype)) {
      throw new KitError(`${at}: dtype ${r.dtype} is not supported; supported dtypes: ${SUPPORTED_DTYPES.join(', ')}`);
    }
    const dtype = r.dtype as StoredDtype;
    if (!Array.isArray(r.shape) || !r.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new KitError(`${at}: missing or invalid 'shape' (${JSON.stringify(r.shape)}); expected a list of non-negative integers`);
    }
    const shape = r.shape as number[];
    const offs = r.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new KitError(`${at}: missing or invalid 'data_offsets' (${JSON.stringify(offs)}); expected [begin, end]`);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) throw new KitError(`${at}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) {
      throw new KitError(
        `${at}: data_offsets [${begin}, ${end}] lie outside the data section (${dataLen} bytes): ` + `the file is truncated or its header is corrupt`,
      );
    }
    const want = numel(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== want) {
      throw new KitError(`${at}: holds ${end - begin} bytes but shape ${shapeStr(shape)} × ${dtype} (${DTYPE_BYTES[dtype]} bytes) needs ${want}`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  // The reference implementation rejects overlapping tensors; so does this reader.
  const byOffset = [...entries].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byOffset.length; i++) {
    if (byOffset[i].begin < byOffset[i - 1].end) {
      throw new KitError(`${file}: tensors '${byOffset[i - 1].name}' and '${byOffset[i].name}' overlap in the data section`);
    }
  }
  return { entries, dataStart, metadata };
}

/** Reads one tensor straight into its own float32 array (F32), or via its 16-bit patterns (F16, BF16). */
function readTensor(fd: number, file: string, position: number, e: Entry): Float32Array {
  const n = numel(e.shape);
  const out = new Float32Array(n);
  if (e.dtype === 'F32') {
    readAt(fd, file, new Uint8Array(out.buffer), position);
    return out;
  }
  const bits = new Uint16Array(n);
  readAt(fd, file, new Uint8Array(bits.buffer), position);
  if (e.dtype === 'BF16') {
    const out32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) out32[i] = bits[i] << 16;
  } else {
    const table = f16ToF32Table();
    for (let i = 0; i < n; i++) out[i] = table[bits[i]];
  }
  return out;
}

/** A tensor's name, stored dtype and shape, as the header gives them. */
export interface TensorInfo {
  name: string;
  dtype: StoredDtype;
  shape: number[];
}

/**
 * An open safetensors file whose header has been read and checked; tensors are read one at a time, on demand, each
 * into a fresh float32 array. A 2 GB file thus never has to be in memory at once: read a tensor, hand it on (e.g. to
 * the device), drop it, read the next. close() when done.
 */
export class SafetensorsReader {
  /** Every tensor, in header order. */
  readonly tensors: TensorInfo[];
  readonly metadata: Record<string, string>;
  private readonly byName: Map<string, Entry>;
  private fd: number | null;

  private constructor(
    readonly file: string,
    fd: number,
    entries: Entry[],
    private readonly dataStart: number,
    metadata: Record<string, string>,
  ) {
    this.fd = fd;
    this.metadata = metadata;
    this.byName = new Map(entries.map((e) => [e.name, e]));
    this.tensors = entries.map((e) => ({ name: e.name, dtype: e.dtype, shape: [...e.shape] }));
  }

  /** Opens `file` and checks its header (a KitError naming the file, and the tensor where there is one). */
  static open(file: string): SafetensorsReader {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      throw new KitError(`${file}: safetensors file not found`);
    }
    if (!stat.isFile()) throw new KitError(`${file}: not a file`);
    const fd = fs.openSync(file, 'r');
    try {
      const { entries, dataStart, metadata } = parseHeader(file, fd, stat.size);
      return new SafetensorsReader(file, fd, entries, dataStart, metadata);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The tensor `name` as float32 (F16/BF16 converted exactly), read from disk now. */
  read(name: string): Float32Array {
    const e = this.byName.get(name);
    if (!e) throw new KitError(`${this.file}: no tensor '${name}'`);
    if (this.fd === null) throw new KitError(`${this.file}: read of '${name}' after close()`);
    return readTensor(this.fd, this.file, this.dataStart + e.begin, e);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Reads every tensor of a safetensors file, converted to float32, in header order. Each tensor is read into its own
 * array with positioned reads, so files larger than one Node buffer (2 GiB) load too. To avoid holding every tensor
 * at once, use SafetensorsReader.
 */
export function readSafetensors(file: string): Map<string, HostTensor> {
  return readSafetensorsWithMetadata(file).tensors;
}

/** readSafetensors plus the file's "__metadata__" (empty when absent). */
export function readSafetensorsWithMetadata(file: string): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  const r = SafetensorsReader.open(file);
  try {
    const tensors = new Map<string, HostTensor>();
    for (const t of r.tensors) tensors.set(t.name, { shape: [...t.shape], dtype: t.dtype, data: r.read(t.name) });
    return { tensors, metadata: r.metadata };
  } finally {
    r.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Writing.

function encode(data: Float32Array, dtype: StoredDtype, out: Uint8Array): void {
  if (dtype === 'F32') {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  out.set(new Uint8Array(encode16(data, dtype).buffer));
}

/** The 16-bit patterns of `data` in `dtype` (F16 or BF16). */
function encode16(data: Float32Array, dtype: 'F16' | 'BF16'): Uint16Array {
  const src = new Uint32Array(data.buffer, data.byteOffset, data.length); // a Float32Array is always 4-byte aligned
  const bits = new Uint16Array(data.length);
  const conv = dtype === 'BF16' ? bf16FromF32Bits : f16FromF32Bits;
  for (let i = 0; i < src.length; i++) bits[i] = conv(src[i]);
  return bits;
}

/** A tensor to be written: its name and shape; its data is asked for when its turn comes. */
export interface TensorSpec {
  name: string;
  shape: number[];
}

interface Plan {
  dtype: StoredDtype;
  /** Sorted by name. */
  specs: TensorSpec[];
  headerBytes: Uint8Array;
  dataBytes: number;
}

/** Checks names, shapes, dtype and metadata and lays out the header (names sorted, space-padded to a multiple of 8). */
function plan(specsIn: readonly TensorSpec[], opts: WriteOptions, where: string): Plan {
  const dtype = opts.dtype ?? 'F32';
  if (!(SUPPORTED_DTYPES as readonly string[]).includes(dtype)) {
    throw new KitError(`${where}: cannot write dtype ${String(dtype)}; supported dtypes: ${SUPPORTED_DTYPES.join(', ')}`);
  }
  const specs = [...specsIn].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (opts.metadata) {
    for (const [k, v] of Object.entries(opts.metadata)) {
      if (typeof v !== 'string') throw new KitError(`${where}: metadata '${k}' must be a string, got ${JSON.stringify(v)}`);
    }
    header.__metadata__ = opts.metadata;
  }
  let offset = 0;
  for (let i = 0; i < specs.length; i++) {
    const { name, shape } = specs[i];
    const at = `${where}: tensor '${name}'`;
    if (name === '' || name === '__metadata__') throw new KitError(`${at}: invalid tensor name`);
    if (i > 0 && specs[i - 1].name === name) throw new KitError(`${at}: given twice`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new KitError(`${at}: invalid shape ${JSON.stringify(shape)}`);
    }
    const bytes = numel(shape) * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json, 'utf8') % 8)) % 8);
  return { dtype, specs, headerBytes: Buffer.from(json, 'utf8'), dataBytes: offset };
}

function checkData(where: string, spec: TensorSpec, data: unknown): Float32Array {
  const at = `${where}: tensor '${spec.name}'`;
  if (!(data instanceof Float32Array)) throw new KitError(`${at}: data must be a Float32Array`);
  if (numel(spec.shape) !== data.length) {
    throw new KitError(`${at}: shape ${shapeStr(spec.shape)} needs ${numel(spec.shape)} values, data has ${data.length}`);
  }
  return data;
}

const specsOf = (tensors: TensorMap): [TensorSpec[], (name: string) => Float32Array] => {
  const m = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const specs: TensorSpec[] = [];
  for (const [name, t] of m) {
    if (!t || !(t.data instanceof Float32Array)) throw new KitError(`safetensors: tensor '${name}': data must be a Float32Array`);
    specs.push({ name, shape: t.shape });
  }
  return [specs, (name) => m.get(name)!.data];
};

/** Serialises tensors to the bytes of a safetensors file (names sorted, header space-padded to a multiple of 8). */
export function encodeSafetensors(tensors: TensorMap, opts: WriteOptions = {}, where = 'safetensors'): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    if (!t || !(t.data instanceof Float32Array)) throw new KitError(`${where}: tensor '${name}': data must be a Float32Array`);
  }
  const [specs, get] = specsOf(tensors);
  const p = plan(specs, opts, where);
  for (const s of p.specs) checkData(where, s, get(s.name));
  const out = new Uint8Array(8 + p.headerBytes.length + p.dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(p.headerBytes.length), true);
  out.set(p.headerBytes, 8);
  let pos = 8 + p.headerBytes.length;
  for (const s of p.specs) {
    const data = get(s.name);
    const bytes = data.length * DTYPE_BYTES[p.dtype];
    encode(data, p.dtype, out.subarray(pos, pos + bytes));
    pos += bytes;
  }
  return out;
}

/**
 * Writes a safetensors file atomically (temp file + rename) one tensor at a time: the header first (from names and
 * shapes), then, in name order, each tensor's data as `read(name)` returns it, converted and appended before the next
 * is asked for. Memory stays at one tensor (plus its 16-bit copy for F16/BF16), whatever the file's size. The bytes
 * are exactly encodeSafetensors'. If `read` throws or returns data of the wrong size, no file is left behind.
 */
export function writeSafetensorsStreaming(file: string, specs: readonly TensorSpec[], read: (name: string) => Float32Array, opts: WriteOptions = {}): void {
  const p = plan(specs, opts, file);
  writeFileAtomicWith(file, (write) => {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(p.headerBytes.length), true);
    write(len);
    write(p.headerBytes);
    for (const s of p.specs) {
      const data = checkData(file, s, read(s.name));
      write(p.dtype === 'F32' ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(encode16(data, p.dtype).buffer));
    }
  });
}

/** Writes tensors to a safetensors file atomically (temp file + rename), streaming them one by one. */
export function writeSafetensors(file: string, tensors: TensorMap, opts: WriteOptions = {}): void {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    if (!t || !(t.data instanceof Float32Array)) throw new KitError(`${file}: tensor '${name}': data must be a Float32Array`);
  }
  const [specs, get] = specsOf(tensors);
  const p = plan(specs, opts, file);
  for (const s of p.specs) checkData(file, s, get(s.name)); // every size checked before a byte is written
  writeSafetensorsStreaming(file, specs, get, opts);
}
