import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { '@batchd/sdk': fileURLToPath(new URL('./packages/sdk/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Three test files at a time: most of a file's time is spent waiting on the processes and
    // servers it starts, so three share a 2-core machine well (about 12.5 minutes, where the
    // files' own times add up to 33; two at a time took 14 to 17).
    maxWorkers: 3,
    globalSetup: ['packages/server/test-support/postgres/postgres-global-setup.ts'],
  },
});
