// TensorBoard event files, written and read without TensorFlow or a protobuf library (docs/tensorboard.md).
//
// An event file is a sequence of TFRecords, each
//   uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes · payload · uint32 masked CRC-32C of payload
// where mask(c) = ((c >>> 15) | (c << 17)) + 0xa282ead8 mod 2^32. Each payload is one serialized `Event` message; only
// the fields a scalar log needs are encoded here:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }   (simple_value sits in a oneof: written even when 0)
// The first record of a file is the event whose file_version is "brain.Event:2". The reader skips every other field
// (images, histograms, graphs written by other tools) by its wire type, so it reads any event file for steps.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KitError } from '../errors';

export const FILE_VERSION = 'brain.Event:2';
/** Event files are found by this prefix (TensorBoard matches names containing "tfevents"). */
export const EVENT_FILE_PREFIX = 'events.out.tfevents.';

// ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of `bytes` (CRC-32C("123456789") = 0xE3069283). */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The TFRecord mask applied to every stored CRC. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// ---- TFRecord framing ----

/** One TFRecord: length, its masked CRC, the payload, the payload's masked CRC. */
export function frameRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length + 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payload.length % 2 ** 32, true);
  dv.setUint32(4, Math.floor(payload.length / 2 ** 32), true);
  dv.setUint32(8, maskCrc(crc32c(out.subarray(0, 8))), true);
  out.set(payload, 12);
  dv.setUint32(12 + payload.length, maskCrc(crc32c(payload)), true);
  return out;
}

/**
 * The payloads of a TFRecord file, both CRCs checked. A record cut short at the end (a process killed mid-write) is
 * left out and reported as `torn`; a complete record with a wrong CRC is a KitError naming the file and byte offset.
 */
export function readRecords(bytes: Uint8Array, file: string): { records: Uint8Array[]; torn: boolean } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < 12) return { records, torn: true };
    if (dv.getUint32(off + 8, true) !== maskCrc(crc32c(bytes.subarray(off, off + 8)))) {
      throw new KitError(`${file}: the record at byte ${off} has a wrong length checksum (a corrupt file, or not a TensorBoard event file)`);
    }
    const len = dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 2 ** 32;
    if (bytes.length - off - 12 < len + 4) return { records, torn: true };
    const payload = bytes.subarray(off + 12, off + 12 + len);
    if (dv.getUint32(off + 12 + len, true) !== maskCrc(crc32c(payload))) {
      throw new KitError(`${file}: the record at byte ${off} has a wrong data checksum (a corrupt file)`);
    }
    records.push(payload);
    off += 12 + len + 4;
  }
  return { records, torn: false };
}

// ---- Protocol buffers: the few wire forms an Event uses ----

class ProtoWriter {
  private parts: number[] = [];
  private scratch = new DataView(new ArrayBuffer(8));

  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`varint: ${n} is not a non-negative safe integer`);
    while (n >= 0x80) {
      this.parts.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.parts.push(n);
  }

  key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  double(field: number, x: number): void {
    this.key(field, 1);
    this.scratch.setFloat64(0, x, true);
    for (let i = 0; i < 8; i++) this.parts.push(this.scratch.getUint8(i));
  }

  float(field: number, x: number): void {
    this.key(field, 5);
    this.scratch.setFloat32(0, x, true);
    for (let i = 0; i < 4; i++) this.parts.push(this.scratch.getUint8(i));
  }

  bytes(field: number, b: Uint8Array): void {
    this.key(field, 2);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** One event as the kit writes and reads it: a file_version header, or scalars at a step. */
export interface TfEvent {
  /** Seconds since the Unix epoch. */
  wallTime: number;
  step: number;
  fileVersion?: string;
  /** Summary values that carry a simple_value (a float32: what TensorBoard stores). */
  scalars?: { tag: string; value: number }[];
}

const utf8 = new TextEncoder();

/** The serialized Event. Fields at their default (step 0, no summary) are left out, as protobuf encoders do. */
export function encodeEvent(e: TfEvent): Uint8Array {
  const w = new ProtoWriter();
  w.double(1, e.wallTime);
  if (e.step !== 0) {
    w.key(2, 0);
    w.varint(e.step);
  }
  if (e.fileVersion !== undefined) w.bytes(3, utf8.encode(e.fileVersion));
  if (e.scalars && e.scalars.length > 0) {
    const summary = new ProtoWriter();
    for (const s of e.scalars) {
      const v = new ProtoWriter();
      v.bytes(1, utf8.encode(s.tag));
      v.float(2, s.value);
      summary.bytes(1, v.finish());
    }
    w.bytes(5, summary.finish());
  }
  return w.finish();
}

class ProtoReader {
  off = 0;
  private dv: DataView;
  constructor(
    readonly b: Uint8Array,
    private where: () => string,
  ) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  fail(what: string): never {
    throw new KitError(`${this.where()}: ${what} (a corrupt event)`);
  }

  done(): boolean {
    return this.off >= this.b.length;
  }

  /** A varint as a number (int64s past 2^53 lose precision; negative ones come back negative). */
  varint(): number {
    let x = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.off >= this.b.length) this.fail('a varint runs past the end');
      const byte = this.b[this.off++];
      x += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return x >= 2 ** 63 ? x - 2 ** 64 : x;
    }
    return this.fail('a varint longer than 10 bytes');
  }

  fixed(n: 4 | 8): number {
    if (this.off + n > this.b.length) this.fail(`a ${n * 8}-bit field runs past the end`);
    const x = n === 8 ? this.dv.getFloat64(this.off, true) : this.dv.getFloat32(this.off, true);
    this.off += n;
    return x;
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n < 0 || this.off + n > this.b.length) this.fail('a length-delimited field runs past the end');
    const out = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.fixed(8);
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.fixed(4);
    else this.fail(`wire type ${wireType} is not one an Event uses`);
  }
}

const utf8d = new TextDecoder();

/** An Event's wall time, step, file_version and simple_value scalars; every other field is skipped. */
export function decodeEvent(payload: Uint8Array, where = 'event'): TfEvent {
  const r = new ProtoReader(payload, () => where);
  const e: TfEvent = { wallTime: 0, step: 0 };
  while (!r.done()) {
    const key = r.varint();
    const field = Math.floor(key / 8),
      wt = key % 8;
    if (field === 1 && wt === 1) e.wallTime = r.fixed(8);
    else if (field === 2 && wt === 0) e.step = r.varint();
    else if (field === 3 && wt === 2) e.fileVersion = utf8d.decode(r.bytes());
    else if (field === 5 && wt === 2) {
      const s = new ProtoReader(r.bytes(), () => where);
      while (!s.done()) {
        const sk = s.varint();
        if (sk !== 0x0a) {
          s.skip(sk % 8);
          continue;
        }
        const v = new ProtoReader(s.bytes(), () => where);
        let tag = '';
        let value: number | undefined;
        while (!v.done()) {
          const vk = v.varint();
          if (vk === 0x0a) tag = utf8d.decode(v.bytes());
          else if (vk === 0x15) value = v.fixed(4);
          else v.skip(vk % 8);
        }
        if (value !== undefined) (e.scalars ??= []).push({ tag, value });
      }
    } else r.skip(wt);
  }
  return e;
}

// ---- Files ----

/** The events of one event file (a torn last record, from a kill, is left out and reported). */
export function readEventFile(file: string): { events: TfEvent[]; torn: boolean } {
  const { records, torn } = readRecords(fs.readFileSync(file), file);
  return { events: records.map((p, i) => decodeEvent(p, `${file}: record ${i + 1}`)), torn };
}

/** The event files of a folder, in name order (TensorBoard's reading order); none when the folder does not exist. */
export function eventFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => n.startsWith(EVENT_FILE_PREFIX))
    .sort()
    .map((n) => path.join(dir, n));
}

/** The largest step of any event in the folder's event files; 0 when there are none. */
export function maxStepIn(dir: string): number {
  let max = 0;
  for (const f of eventFilesIn(dir)) for (const e of readEventFile(f).events) if (e.step > max) max = e.step;
  return max;
}

let fileCounter = 0;

/**
 * `events.out.tfevents.<unix seconds>.<hostname>.<pid>.<n>`: the seconds keep files in creation order by name (as
 * TensorBoard reads them); pid and a per-process counter keep two files made in the same second apart. The counter is
 * zero-padded so that one process's files sort in creation order by name too (unpadded, file 10 sorts before file 9).
 */
export function eventFileName(wallSeconds: number, host = os.hostname(), pid = process.pid, n = 0): string {
  return `${EVENT_FILE_PREFIX}${Math.floor(wallSeconds)}.${host.replace(/[^A-Za-z0-9._-]/g, '_') || 'host'}.${pid}.${String(n).padStart(6, '0')}`;
}

/**
 * Appends events to a new event file in `dir` (created, with its file_version record, by the constructor). Each
 * write goes to the file at once (no buffering: an event written is on disk for TensorBoard and for a resume's
 * maxStepIn), without an fsync: a tail lost in a machine crash is rewritten from metrics.jsonl by the next resume.
 */
export class EventFileWriter {
  readonly file: string;

  constructor(
    dir: string,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    const t = now();
    for (;;) {
      const file = path.join(dir, eventFileName(t, undefined, undefined, fileCounter++));
      try {
        fs.writeFileSync(file, frameRecord(encodeEvent({ wallTime: t, step: 0, fileVersion: FILE_VERSION })), { flag: 'wx' });
        this.file = file;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  }

  /** One event holding `scalars` at `step` (a positive integer). */
  writeScalars(step: number, scalars: { tag: string; value: number }[], wallTime = this.now()): void {
    this.writeEvents([{ wallTime, step, scalars }]);
  }

  /** Several events in one append. */
  writeEvents(events: TfEvent[]): void {
    if (events.length === 0) return;
    const frames = events.map((e) => frameRecord(encodeEvent(e)));
    fs.appendFileSync(this.file, frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }
}
