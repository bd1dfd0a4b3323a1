// Test runner config for `npm test`: every test file except the slow suite (vitest.slow.config.ts).
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** Files named *.slow.test.ts (the 256 MiB reset, big-file autotests, load and soak) run in `npm run test:slow`. */
export const SLOW_TESTS = 'test/**/*.slow.test.ts';

/** Settings both suites share. */
export const shared: NonNullable<ViteUserConfig['test']> = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // Device workers and socket servers are real threads and sockets; forks keep suites isolated.
  pool: 'forks',
  poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  reporters: ['default', './test/support/summary-reporter.ts'],
};

const EXCLUDED = ['test/bench/**', 'node_modules/**', 'dist/**'];

export default defineConfig({
  test: { ...shared, include: ['test/**/*.test.ts'], exclude: [...EXCLUDED, SLOW_TESTS] },
});
