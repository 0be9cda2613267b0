import { defineConfig } from 'vitest/config';

// End-to-end: the built app served headless, driven in Debian's chromium. Run `npm run build` first.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
