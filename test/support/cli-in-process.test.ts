import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openServices } from '../../api/composition.js';
import { loadConfig } from '../../api/config.js';
import { repoRoot, runCli } from './cli.js';
import { runCliInProcess, tempDataDirInitialized } from './cli-in-process.js';

/** The in-process runner answers as the real binary does, and keeps the test process's state out. */

describe('runCliInProcess', () => {
  const folders: { remove(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const folder of folders) await folder.remove();
  });

  it('gives the exit code and output the real binary gives', async () => {
    const args = ['events', 'tail', '--limit', '0'];
    const [real, inProcess] = [await runCli(args), await runCliInProcess(args)];
    expect(real.exitCode).toBe(2);
    expect(inProcess).toEqual({ ...real, signal: null });
  });

  it("never sees the test process's environment, and resolves DATA_DIR in the working directory it is given", async () => {
    const data = await tempDataDirInitialized('in-process');
    folders.push(data);
    const leaked = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://leaked@127.0.0.1:1/never';
    try {
      const result = await runCliInProcess(['migrate'], { env: { DATA_DIR: path.basename(data.dir) }, cwd: path.dirname(data.dir) });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain(`database: embedded PGlite in ${data.dir}`);
    } finally {
      if (leaked === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = leaked;
    }
    expect(process.cwd()).toBe(repoRoot.replace(/\/$/, ''));
  });

  it('refuses to open an embedded folder this process holds open (two PGlites on one folder corrupt it)', async () => {
    const data = await tempDataDirInitialized('in-process');
    folders.push(data);
    const env = { DATA_DIR: data.dir };
    const services = await openServices(loadConfig(env), { command: 'test' });
    try {
      await expect(runCliInProcess(['migrate'], { env })).rejects.toThrow(/holds the embedded database .* open/);
    } finally {
      await services.close();
    }
    const migrated = await runCliInProcess(['migrate'], { env });
    expect(migrated.exitCode, migrated.stderr).toBe(0);
  });
});
