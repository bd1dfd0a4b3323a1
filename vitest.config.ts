// Test runner config for `npm test`: every test file except the slow suite (vitest.slow.config.ts).
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** Files named *.slow.test.ts (the 256 MiB reset, big-file autotests, load and soak) run in `npm run test:slow`. */
export const SLOW_TESTS = 'test/**/*.slow.test.ts';

/** Settings both suites share. */
export const shared: NonNullable<ViteUserConfig['test']> = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // Device workers and socket servers are real threads and sockets: forks, not threads. Files share a fork's
  // module cache (isolate: false): importing the service graph afresh for every file cost about two thirds of the
  // suite's CPU time. Tests therefore leave no process-wide state behind (listeners, env, timers).
  pool: 'forks',
  poolOptions: { forks: { maxForks: 2, minForks: 1, isolate: false } },
  reporters: ['default', './test/support/summary-reporter.ts'],
};

const EXCLUDED = ['test/bench/**', 'node_modules/**', 'dist/**'];

export default defineConfig({
  test: { ...shared, include: ['test/**/*.test.ts'], exclude: [...EXCLUDED, SLOW_TESTS] },
});
