// data/README.md must state the true SHA-256 of every benchmark file it documents (scripts/check-data.ts --write
// regenerates that block); a file changed without regenerating the README fails here.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCHMARKS, dataFile, defaultDataDir, readDataFile } from '../../src/tasks/benchmarks';

describe('data/README.md', () => {
  const dir = defaultDataDir();
  const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  it.each(Object.values(BENCHMARKS))('states the checksum of %s', (file) => {
    // The checksum of the JSONL content, after gunzip for the kit's `<name>.jsonl.gz` copies (as check-data.ts computes it).
    const sum = crypto
      .createHash('sha256')
      .update(readDataFile(dataFile(dir, file) ?? path.join(dir, file)))
      .digest('hex');
    expect(readme).toContain(`${sum}  ${file}`);
  });
});
