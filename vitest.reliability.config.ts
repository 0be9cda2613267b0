import { defineConfig } from 'vitest/config';

// The reliability suite (npm run test:reliability): API fuzzing, hostile files, kill -9 during
// writes, the served gate (Host/Origin/token) and the path policy, against real servers and
// child processes. Budgets are counts, never wall-clock; one file at a time (CI has 2 cores).
// The path-policy matrix is its unit test (tests/unit/files), run here again to count in the table.
// Each run writes its figures to its own folder (tests/reliability/support/figures.ts).
process.env.RELIABILITY_RUN ??= `run-${process.pid}-${Date.now()}`;

export default defineConfig({
  test: {
    env: { RELIABILITY_RUN: process.env.RELIABILITY_RUN },
    include: ['tests/reliability/**/*.test.ts', 'tests/unit/files/pathPolicy.test.ts'],
    environment: 'node',
    // A bound against hangs, not a speed goal: the parts are sized by counts.
    testTimeout: 900_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default', './tests/reliability/support/summaryReporter.ts'],
  },
});
