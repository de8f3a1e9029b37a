// Atomic file writes: write a temp file next to the target, fsync it, then rename it over the target, so a reader
// (or a resumed run after a crash) sees either the old file or the complete new one, never a half-written one.
import * as fs from 'node:fs';
import * as path from 'node:path';

let counter = 0;

/** Writes `data` to `file` atomically, creating parent folders as needed. Strings are written as UTF-8. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  writeFileAtomicWith(file, (write) => write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}

/**
 * Streams a file atomically: `fill` is called once with a `write(bytes)` that appends to a temp file next to the target;
 * when it returns, the temp file is fsync'd and renamed over the target. If `fill` throws, the temp file is removed and
 * the target is untouched. Lets a writer emit a multi-GB file piece by piece without holding it in memory.
 */
export function writeFileAtomicWith(file: string, fill: (write: (bytes: Uint8Array) => void) => void): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.${counter++}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w');
    const out = fd;
    fill((buf) => {
      let off = 0;
      // writeSync takes at most 2^31 - 1 bytes per call: write large views in 1 GiB pieces.
      while (off < buf.byteLength) off += fs.writeSync(out, buf, off, Math.min(buf.byteLength - off, 1 << 30));
    });
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing; keep the first error */
      }
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  // Make the rename itself durable where the platform allows fsync on a folder.
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* not supported on every platform (e.g. Windows); the data itself is already synced */
  }
}

/**
 * JSON indented by 2 spaces down to nesting depth `inlineDepth`, and each value at that depth on one line. Parses to
 * exactly what JSON.stringify gives; `inlineDepth` Infinity is JSON.stringify(value, null, 2). Per-sample records
 * (an eval.json's problems and traces, at depth 2) one per line keep large result files small and still diff well.
 */
export function stringifyJson(value: unknown, inlineDepth = Infinity): string {
  const walk = (v: unknown, depth: number, indent: string): string => {
    if (depth >= inlineDepth || v === null || typeof v !== 'object' || typeof (v as { toJSON?: unknown }).toJSON === 'function')
      return JSON.stringify(v) ?? 'null';
    const inner = indent + '  ';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => inner + (x === undefined || typeof x === 'function' ? 'null' : walk(x, depth + 1, inner))).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && typeof x !== 'function');
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${walk(x, depth + 1, inner)}`).join(',\n')}\n${indent}}`;
  };
  return walk(value, 0, '');
}

/** Writes `value` as JSON (2-space indent, trailing newline; see stringifyJson for `inlineDepth`) atomically. */
export function writeJsonAtomic(file: string, value: unknown, opts: { inlineDepth?: number } = {}): void {
  writeFileAtomic(file, stringifyJson(value, opts.inlineDepth) + '\n');
}

/** For result files whose top-level arrays hold per-sample records (eval.json): one record per line. */
export const ONE_RECORD_PER_LINE = { inlineDepth: 2 } as const;
