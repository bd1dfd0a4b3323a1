// Test runner config for `npm run test:slow`: exactly the *.slow.test.ts files that `npm test` leaves out.
import { defineConfig } from 'vitest/config';
import { shared, SLOW_TESTS } from './vitest.config.js';

export default defineConfig({
  // Long tests get five minutes each: a busy CI machine can stretch a load test well past the usual minute.
  test: { ...shared, testTimeout: 300_000, include: [SLOW_TESTS], exclude: ['node_modules/**', 'dist/**'] },
});
