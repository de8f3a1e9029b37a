#!/usr/bin/env node
// The `introllm` command. Runs the TypeScript sources through tsx so that the CLI always matches src/.
require('tsx/cjs');
const { main } = require('../src/cli.ts');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // INTROLLM_DEBUG=1 adds the stack of an unexpected error (for a bug report); a KitError's message is the whole story.
    const debug = process.env.INTROLLM_DEBUG && err && err.stack;
    console.error(`introllm: ${debug ? err.stack : err && err.message ? err.message : err}`);
    process.exitCode = 1;
  },
);
