// writeFileAtomic / writeJsonAtomic: content, parent folders, overwrite, and no temp files left behind.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeJsonAtomic } from '../../src/io/atomic';

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
});
