// writeFileAtomic / writeJsonAtomic: content, parent folders, overwrite, and no temp files left behind.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ONE_RECORD_PER_LINE, stringifyJson, writeFileAtomic, writeJsonAtomic } from '../../src/io/atomic';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes a string as UTF-8 and leaves only the target file', () => {
    const f = path.join(dir, 'a.txt');
    writeFileAtomic(f, 'héllo\n');
    expect(fs.readFileSync(f, 'utf8')).toBe('héllo\n');
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
  });

  it('writes bytes exactly, including a subarray view with a non-zero offset', () => {
    const f = path.join(dir, 'b.bin');
    const backing = new Uint8Array([9, 9, 1, 2, 3, 255, 9]);
    writeFileAtomic(f, backing.subarray(2, 6));
    expect([...fs.readFileSync(f)]).toEqual([1, 2, 3, 255]);
  });

  it('creates missing parent folders', () => {
    const f = path.join(dir, 'x', 'y', 'z.txt');
    writeFileAtomic(f, 'deep');
    expect(fs.readFileSync(f, 'utf8')).toBe('deep');
  });

  it('overwrites an existing file and leaves no temp file behind', () => {
    const f = path.join(dir, 'c.txt');
    fs.writeFileSync(f, 'old content that is longer than the new one');
    writeFileAtomic(f, 'new');
    expect(fs.readFileSync(f, 'utf8')).toBe('new');
    expect(fs.readdirSync(dir)).toEqual(['c.txt']);
  });

  it('writes an empty file', () => {
    const f = path.join(dir, 'empty');
    writeFileAtomic(f, new Uint8Array(0));
    expect(fs.statSync(f).size).toBe(0);
  });

  it('throws and leaves no temp file when the target is a folder', () => {
    const f = path.join(dir, 'sub');
    fs.mkdirSync(f);
    expect(() => writeFileAtomic(f, 'x')).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['sub']);
  });
});

describe('writeJsonAtomic', () => {
  it('writes pretty JSON with a trailing newline that parses back', () => {
    const f = path.join(dir, 'v.json');
    writeJsonAtomic(f, { a: 1, b: [true, null] });
    const text = fs.readFileSync(f, 'utf8');
    expect(text).toBe('{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}\n');
    expect(JSON.parse(text)).toEqual({ a: 1, b: [true, null] });
  });

  it('with ONE_RECORD_PER_LINE writes each record of a top-level array on one line', () => {
    const f = path.join(dir, 'e.json');
    writeJsonAtomic(
      f,
      {
        step: 2,
        problems: [
          { id: 'a', correct: [true, false] },
          { id: 'b', correct: [] },
        ],
        e: [],
      },
      ONE_RECORD_PER_LINE,
    );
    expect(fs.readFileSync(f, 'utf8')).toBe(
      '{\n  "step": 2,\n  "problems": [\n    {"id":"a","correct":[true,false]},\n    {"id":"b","correct":[]}\n  ],\n  "e": []\n}\n',
    );
  });
});

describe('stringifyJson', () => {
  const values: unknown[] = [
    { a: 1, u: undefined, f: () => 1, n: NaN, d: new Date(0), nested: { x: [1, [2, { y: null }]], s: 'q"\u2028' } },
    [undefined, () => 1, { k: undefined }],
    [],
    {},
    'plain',
    3,
    null,
  ];
  it('is JSON.stringify(v, null, 2) at unlimited depth, for every kind of value', () => {
    for (const v of values) expect(stringifyJson(v)).toBe(JSON.stringify(v, null, 2));
  });
  it('parses back to the same value at every inline depth', () => {
    for (const v of values) for (const d of [0, 1, 2, 3]) expect(JSON.parse(stringifyJson(v, d))).toEqual(JSON.parse(JSON.stringify(v)));
  });
});
