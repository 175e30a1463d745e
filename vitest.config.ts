import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/support/slow-first-sequencer.js';

// Test files live beside the code they check (unit) and under test/ (integration, end-to-end).
// Each file gets its own database/schema, so files run in parallel; two workers match the
// 2-core machines we and CI run on. Measured on test/ocpi (27 files), runs alternated: 3 workers
// took 78.5 s and 87.0 s against 82.9 s and 89.4 s for 2, within the noise of a shared machine,
// while the summed test time rose from ~130 s to ~180 s (more contention, so timing-sensitive
// tests get closer to their limits): not worth it.
//
// Two projects:
// - 'isolated': a fresh process per file, so module-level state such as prom-client counters
//   never carries from one file into another (importing the modules again costs ~1 s per file);
// - 'shared': the unit tests beside the code in domain/ (pure by rule), commands/, api/,
//   ocpp/{operations,translate}/ and the OCPI schema tests, which start no process, read no
//   process-wide metric, and touch no process state (env, cwd, listeners): they reuse a worker
//   and its imported modules. Measured on those 55 files run alone: 20 s of CPU instead of 56 s.
//   A test file that does any of that belongs under test/.
// Vitest starts the longest files first (durations of the last run, node_modules/.vite/vitest;
// a fresh clone has none: test/support/slow-first-sequencer.ts names the slowest for it)
// and runs the projects in name order: the isolated integration files first, the many short
// shared ones last, where they fill both workers to the end.
const sharedFiles = [
  '{domain,commands,api}/**/*.test.ts',
  'ocpp/{operations,translate}/**/*.test.ts',
  'test/ocpi-schemas/**/*.test.ts',
];
const excluded = ['**/node_modules/**', 'test/bench/**'];

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      {
        extends: true,
        test: {
          name: 'isolated',
          include: ['{domain,commands,projections,adapters,ocpp,ocpi,api,test}/**/*.test.ts'],
          exclude: [...excluded, ...sharedFiles],
        },
      },
      { extends: true, test: { name: 'shared', include: sharedFiles, exclude: excluded, isolate: false } },
    ],
  },
});
