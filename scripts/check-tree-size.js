#!/usr/bin/env node
// CI check: the files git tracks must stay under a size limit (default 30 MB), so that a clone stays quick and the
// working tree fits the 64 MiB a GPU device call carries. Prints the total and the largest files; exits 1 past it.
//   node scripts/check-tree-size.js [--limit-mb 30]
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const repo = path.resolve(__dirname, '..');
const i = process.argv.indexOf('--limit-mb');
const limitMb = i >= 0 ? Number(process.argv[i + 1]) : 30;
if (!(limitMb > 0)) {
  console.error(`check-tree-size: --limit-mb must be a positive number, got '${process.argv[i + 1]}'`);
  process.exit(2);
}
const files = execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' }).split('\0').filter(Boolean);
const sizes = files.map((f) => {
  try {
    return { f, n: fs.statSync(path.join(repo, f)).size };
  } catch {
    return { f, n: 0 }; // deleted in the working tree, not yet committed
  }
});
const total = sizes.reduce((s, x) => s + x.n, 0);
const mb = (n) => (n / 1e6).toFixed(1);
console.log(`tracked tree: ${mb(total)} MB in ${files.length} files (limit ${limitMb} MB)`);
if (total > limitMb * 1e6) {
  for (const { f, n } of sizes.sort((a, b) => b.n - a.n).slice(0, 15)) console.log(`  ${mb(n).padStart(6)} MB  ${f}`);
  console.error(`check-tree-size: the tracked tree is ${mb(total)} MB, over the ${limitMb} MB limit (see the largest files above)`);
  process.exit(1);
}
