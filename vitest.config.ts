import { defineConfig } from 'vitest/config';

// Test files live beside the code they check (unit) and under test/ (integration, end-to-end).
// Each file gets its own database/schema, so files run in parallel; two workers match the
// 2-core machines we and CI run on. Measured on test/ocpi (27 files), runs alternated: 3 workers
// took 78.5 s and 87.0 s against 82.9 s and 89.4 s for 2, within the noise of a shared machine,
// while the summed test time rose from ~130 s to ~180 s (more contention, so timing-sensitive
// tests get closer to their limits): not worth it. Files stay isolated (a fresh process each):
// module-level state such as prom-client counters must not carry from one file into another,
// although importing the modules again costs ~1 s per file.
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
