import { defineConfig } from 'vitest/config';

// Tests run in forked processes: TF.js keeps global backend state per process, and the wasm backend
// must not be shared between files that pick different backends.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
