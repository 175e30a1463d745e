import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Vitest starts the longest files first by the durations of the last run on this machine
 * (node_modules/.vite/vitest). A fresh clone (CI) has none and falls back to file size, which
 * started some of the slowest files last and made the whole run ~20 % longer. Without any
 * recorded duration, these files (the slowest of a full run on 2026-12-03) start first, slowest
 * first; with durations, Vitest's own order stands.
 */
const slowestWhenUnmeasured = [
  'test/integration/cli-ocpi.test.ts',
  'projections/ocpi-sessions.test.ts',
  'test/e2e/ocpp-session.test.ts',
  'test/integration/cli-rebuild-embedded.test.ts',
  'test/integration/cli-embedded.test.ts',
  'test/integration/billing-cli.test.ts',
  'test/ocpi/locations-operator.test.ts',
  'test/ocpi/push.test.ts',
  'test/ocpi/push-cli.test.ts',
  'test/e2e/sigkill-under-load.test.ts',
  'test/e2e/node-restart.test.ts',
  'test/integration/projection-rebuild.test.ts',
  'test/support/cli-in-process.test.ts',
  'test/integration/station-auth.test.ts',
  'test/integration/settlement-reconcile.test.ts',
  'test/ocpi/commands.test.ts',
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const path = (file: TestSpecification) => relative(root, file.moduleId).split('\\').join('/');
    const measured = sorted.some((file) => this.ctx.cache.getFileTestResults(`${file.project.name}:${path(file)}`) !== undefined);
    if (measured) return sorted;
    const rank = (file: TestSpecification) => {
      const index = slowestWhenUnmeasured.indexOf(path(file));
      return index === -1 ? slowestWhenUnmeasured.length : index;
    };
    // Projects keep their order (isolated before shared); within one, the known slow first, then
    // Vitest's order. One key per file, so the comparison is a total order.
    const projectOrder = new Map<string, number>();
    for (const file of sorted) if (!projectOrder.has(file.project.name)) projectOrder.set(file.project.name, projectOrder.size);
    return sorted
      .map((file, position) => ({ file, key: [projectOrder.get(file.project.name)!, rank(file), position] as const }))
      .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2])
      .map(({ file }) => file);
  }
}
