import { defineConfig } from 'vitest/config';

// Tests run real I/O (temporary directories, sockets on port 0, child processes), so they get
// generous timeouts; nothing here asserts speed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
