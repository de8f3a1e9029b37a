#!/usr/bin/env node
// `npm test`: runs vitest (human-readable output plus a JSON report) and ends with one plain summary line,
// "tests: N passed, M failed[, K skipped]", that CI reads. Exits with vitest's status.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const report = path.join(__dirname, '..', '.cache', 'test-results.json');
fs.mkdirSync(path.dirname(report), { recursive: true });
fs.rmSync(report, { force: true });
const vitest = path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
let status = r.status ?? 1;
if (fs.existsSync(report)) {
  const j = JSON.parse(fs.readFileSync(report, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  console.log(`tests: ${j.numPassedTests} passed, ${j.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (j.numTotalTests === 0) status = status || 1;
} else {
  console.log('tests: 0 passed, 1 failed');
  status = status || 1;
}
process.exit(status);
