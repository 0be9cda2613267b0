import { defineConfig } from 'vitest/config';

// The reliability suite (npm run test:reliability): API fuzzing, hostile files, kill -9 during
// writes, the served gate (Host/Origin/token) and the path policy, against real servers and
// child processes. Budgets are counts, never wall-clock; one file at a time (CI has 2 cores).
// The path-policy matrix is H4's unit test, run here again so its cases count in the table.
export default defineConfig({
  test: {
    include: ['tests/reliability/**/*.test.ts', 'tests/unit/files/pathPolicy.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default', './tests/reliability/support/summaryReporter.ts'],
  },
});
