#!/usr/bin/env node
// The `introllm` command. Runs the TypeScript sources through tsx so that the CLI always matches src/.
require('tsx/cjs');
const { main } = require('../src/cli.ts');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`introllm: ${err && err.message ? err.message : err}`); process.exitCode = 1; },
);
