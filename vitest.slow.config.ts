// Test runner config for `npm run test:slow`: exactly the *.slow.test.ts files that `npm test` leaves out.
import { defineConfig } from 'vitest/config';
import { shared, SLOW_TESTS } from './vitest.config.js';

export default defineConfig({
  test: { ...shared, include: [SLOW_TESTS], exclude: ['node_modules/**', 'dist/**'] },
});
