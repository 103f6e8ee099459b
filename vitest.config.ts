import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for every package (it has no "exports" map);
    // make the files vitest transforms use that same copy, not graphql's .mjs one,
    // or schema objects built by Pothos fail graphql's cross-realm instanceof checks.
    alias: [{ find: /^graphql$/, replacement: fileURLToPath(new URL('./node_modules/graphql/index.js', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Real Postgres/Redis and PGlite cold starts: generous, not timed assertions.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
