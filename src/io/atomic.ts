// Atomic file writes: write a temp file next to the target, fsync it, then rename it over the target, so a reader
// (or a resumed run after a crash) sees either the old file or the complete new one, never a half-written one.
import * as fs from 'node:fs';
import * as path from 'node:path';

let counter = 0;

/** Writes `data` to `file` atomically, creating parent folders as needed. Strings are written as UTF-8. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.${counter++}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w');
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.byteLength) off += fs.writeSync(fd, buf, off, buf.byteLength - off);
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

/** Writes `value` as pretty-printed JSON (2-space indent, trailing newline) atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
