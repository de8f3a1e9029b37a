// TensorBoard event files (src/io/tfevents.ts) against the format itself: a golden file derived by hand
// (tests/fixtures/tfevents/README.md walks through its bytes), CRC-32C's check value, and a reader that refuses a bad
// checksum, tolerates a torn last record and skips the fields a scalar log does not use.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  crc32c,
  decodeEvent,
  encodeEvent,
  EventFileWriter,
  eventFilesIn,
  frameRecord,
  maskCrc,
  maxStepIn,
  readEventFile,
  readRecords,
} from '../../src/io/tfevents';
import { expectKitError, tempDir } from '../helpers/kit';

const GOLDEN = path.join(__dirname, '..', 'fixtures', 'tfevents', 'golden.tfevents');
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const ascii = (s: string) => new TextEncoder().encode(s);

describe('CRC-32C and the TFRecord mask', () => {
  it('CRC-32C has its published check value; the mask rotates right by 15 and adds 0xa282ead8', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // 32 zero bytes (RFC 3720's first test vector)
    expect(maskCrc(0x4a65bfe4)).toBe(0x224b7fa3); // the length CRC of the golden file's first record
    expect(maskCrc(0)).toBe(0xa282ead8);
    expect(maskCrc(0xffffffff)).toBe((0xffffffff + 0xa282ead8) % 2 ** 32); // wraps mod 2^32
  });

  it('a record is length · masked CRC(length) · payload · masked CRC(payload), all little-endian', () => {
    const r = frameRecord(ascii('abc'));
    const dv = new DataView(r.buffer);
    expect(r.length).toBe(8 + 4 + 3 + 4);
    expect(dv.getUint32(0, true)).toBe(3);
    expect(dv.getUint32(4, true)).toBe(0);
    expect(dv.getUint32(8, true)).toBe(maskCrc(crc32c(r.subarray(0, 8))));
    expect(Buffer.from(r.subarray(12, 15)).toString()).toBe('abc');
    expect(dv.getUint32(15, true)).toBe(maskCrc(crc32c(ascii('abc'))));
  });
});

describe('the golden event file', () => {
  const golden = new Uint8Array(fs.readFileSync(GOLDEN));

  it('the writer reproduces it byte for byte (file_version event first, then one event of two scalars)', () => {
    const out = path.join(dir, 'golden');
    const w = new EventFileWriter(out, () => 1700000000.5);
    w.writeScalars(
      300,
      [
        { tag: 'loss', value: 0.5 },
        { tag: 'train/acc', value: 0 },
      ],
      1700000001.25,
    );
    expect(path.basename(w.file)).toMatch(new RegExp(`^events\\.out\\.tfevents\\.1700000000\\.[A-Za-z0-9._-]+\\.${process.pid}\\.\\d+$`));
    expect(eventFilesIn(out)).toEqual([w.file]);
    expect(Buffer.from(fs.readFileSync(w.file)).toString('hex')).toBe(Buffer.from(golden).toString('hex'));
  });

  it('the reader decodes it back', () => {
    expect(readEventFile(GOLDEN)).toEqual({
      torn: false,
      events: [
        { wallTime: 1700000000.5, step: 0, fileVersion: 'brain.Event:2' },
        {
          wallTime: 1700000001.25,
          step: 300,
          scalars: [
            { tag: 'loss', value: 0.5 },
            { tag: 'train/acc', value: 0 },
          ],
        },
      ],
    });
  });

  it('a flipped bit in a payload or a length is refused, naming the file and the record', () => {
    const bad = path.join(dir, 'bad-data');
    const b = Uint8Array.from(golden);
    b[40 + 12 + 20] ^= 1; // inside record 2's payload (a byte of the tag "loss")
    fs.writeFileSync(bad, b);
    expectKitError(() => readEventFile(bad), bad, 'record at byte 40', 'wrong data checksum');
    const c = Uint8Array.from(golden);
    c[0] ^= 0x10; // record 1's length
    fs.writeFileSync(bad, c);
    expectKitError(() => readEventFile(bad), bad, 'record at byte 0', 'wrong length checksum');
    fs.writeFileSync(bad, 'not an event file, just text');
    expectKitError(() => readEventFile(bad), 'wrong length checksum');
  });

  it('a record cut short at the end (a kill mid-write) is left out and reported, the records before it kept', () => {
    for (const cut of [1, 4, 10, 30]) {
      const f = path.join(dir, `torn-${cut}`);
      fs.writeFileSync(f, golden.subarray(0, golden.length - cut));
      const r = readEventFile(f);
      expect(r.torn).toBe(true);
      expect(r.events.map((e) => e.fileVersion)).toEqual(['brain.Event:2']);
    }
    expect(readRecords(golden.subarray(0, 40), 'x')).toEqual({ records: [golden.subarray(12, 36)], torn: false });
  });
});

describe('events', () => {
  it('round-trip: steps past 2^32, float32 values, field numbers as the schema has them', () => {
    const e = {
      wallTime: 1.5,
      step: 2 ** 40 + 7,
      scalars: [
        { tag: 'a/b', value: 0.1 },
        { tag: 'neg', value: -3e-5 },
      ],
    };
    const bytes = encodeEvent(e);
    expect(decodeEvent(bytes)).toEqual({ ...e, scalars: e.scalars.map((s) => ({ ...s, value: Math.fround(s.value) })) });
    expect(bytes[0]).toBe((1 << 3) | 1); // wall_time: field 1, 64-bit
    expect(bytes[9]).toBe((2 << 3) | 0); // step: field 2, varint
    // step 0 (the protobuf default) is left out; file_version is field 3, length-delimited
    expect(Array.from(encodeEvent({ wallTime: 0, step: 0, fileVersion: 'v' }))).toEqual([0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a, 1, 0x76]);
  });

  it('the reader skips the fields and values it does not use (images, tensors, metadata, session logs)', () => {
    // Value { tag: "img", image (field 4) { … } }, Value { tag: "t", metadata (9) { … }, simple_value: 2 }, a Summary
    // field 2 (unknown), and Event fields 4 (graph_def, bytes), 6 (log_message) and 10 (a varint).
    const img = [0x0a, 3, ...ascii('img'), 0x22, 2, 0x08, 1];
    const t = [0x0a, 1, ...ascii('t'), 0x4a, 3, 0x12, 1, 0x78, 0x15, 0, 0, 0, 0x40];
    const summary = [0x0a, img.length, ...img, 0x12, 1, 0x30, 0x0a, t.length, ...t];
    const ev = Uint8Array.from([0x22, 2, 0xde, 0xad, 0x10, 5, 0x32, 1, 0x00, 0x50, 0x96, 0x01, 0x2a, summary.length, ...summary]);
    expect(decodeEvent(ev)).toEqual({ wallTime: 0, step: 5, scalars: [{ tag: 't', value: 2 }] });
    expectKitError(() => decodeEvent(Uint8Array.from([0x2a, 9, 0x0a]), 'here'), 'here', 'runs past the end');
    expectKitError(() => decodeEvent(Uint8Array.from([0x0b]), 'here'), 'wire type 3');
  });

  it('two writers in one second and one folder make two files; maxStepIn reads every file', () => {
    const out = path.join(dir, 'two');
    expect(maxStepIn(out)).toBe(0); // no folder yet
    const a = new EventFileWriter(out, () => 1700000000);
    const b = new EventFileWriter(out, () => 1700000000);
    expect(a.file).not.toBe(b.file);
    a.writeScalars(3, [{ tag: 'x', value: 1 }]);
    b.writeEvents([
      { wallTime: 1, step: 9, scalars: [] },
      { wallTime: 1, step: 4, scalars: [{ tag: 'x', value: 2 }] },
    ]);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'not an event file'); // other files of the folder are not read
    expect(eventFilesIn(out)).toEqual([a.file, b.file].sort());
    expect(maxStepIn(out)).toBe(9);
    expect(readEventFile(b.file).events.map((e) => e.step)).toEqual([0, 9, 4]);
  });

  it("one process's files in one second sort by name in creation order, past the tenth", () => {
    const out = path.join(dir, 'many');
    const files = Array.from({ length: 12 }, () => new EventFileWriter(out, () => 1700000000).file);
    expect(eventFilesIn(out)).toEqual(files);
  });
});
