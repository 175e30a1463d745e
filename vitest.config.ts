import { defineConfig } from 'vitest/config';

// Test files live beside the code they check (unit) and under test/ (integration, end-to-end).
// Each file gets its own database/schema, so files run in parallel; two workers match the
// 2-core machines we and CI run on.
export default defineConfig({
  test: {
    include: ['{domain,commands,projections,adapters,ocpp,ocpi,api,test}/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
