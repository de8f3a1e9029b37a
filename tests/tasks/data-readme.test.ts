// data/README.md must state the true SHA-256 of every benchmark file it documents (scripts/check-data.ts --write
// regenerates that block); a file changed without regenerating the README fails here.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCHMARKS, defaultDataDir } from '../../src/tasks/benchmarks';

describe('data/README.md', () => {
  const dir = defaultDataDir();
  const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  it.each(Object.values(BENCHMARKS))('states the checksum of %s', (file) => {
    const sum = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, file))).digest('hex');
    expect(readme).toContain(`${sum}  ${file}`);
  });
});
