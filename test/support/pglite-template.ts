import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A new PGlite database starts with Postgres's initdb: 1.5-2 s of WebAssembly work here, 4-8 s on
 * a loaded 2-core machine, paid by every test file that opens one (about thirty). For one PGlite
 * version that cluster is the same files every time, so it is made once per machine, kept in the
 * temporary folder, and copied: ~0.4 s for a data folder, ~1 s to load a dump into memory. Only
 * initdb is skipped; the application's own migrations still run on it as on any new database.
 */

const pgliteManifest = fileURLToPath(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url));

function pgliteVersion(): string {
  return (JSON.parse(readFileSync(pgliteManifest, 'utf8')) as { version: string }).version;
}

/** Where the templates live: named by PGlite version, since another version's files may not fit. */
function templatePath(kind: 'cluster' | 'dump'): string {
  return path.join(tmpdir(), `csms-pglite-${kind}-${pgliteVersion()}${kind === 'dump' ? '.tar' : ''}`);
}

/**
 * Builds `target` in a temporary sibling and renames it into place: other test processes (files
 * run in parallel) may build it at the same time, and the rename makes whichever finishes first
 * the one every process uses; the others' identical copies are thrown away.
 */
async function buildOnce(target: string, build: (scratch: string) => Promise<void>): Promise<void> {
  if (existsSync(target)) return;
  const scratchDir = await mkdtemp(`${target}-building-`);
  const scratch = path.join(scratchDir, 'template');
  try {
    await build(scratch);
    await rename(scratch, target).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(target)) throw error;
    });
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}

let cluster: Promise<string> | undefined;
let dump: Promise<Blob> | undefined;

/** Copies an initialized PGlite cluster into `folder` (which must not exist yet). */
export async function copyPgliteCluster(folder: string): Promise<void> {
  cluster ??= (async () => {
    const target = templatePath('cluster');
    await buildOnce(target, async (scratch) => {
      const { PGlite } = await import('@electric-sql/pglite');
      const db = await PGlite.create(scratch);
      await db.close();
    });
    return target;
  })();
  await cp(await cluster, folder, { recursive: true });
}

/** An initialized cluster as a dump, for `PGlite.create({ loadDataDir })` in memory. */
export function pgliteClusterDump(): Promise<Blob> {
  dump ??= (async () => {
    const target = templatePath('dump');
    await buildOnce(target, async (scratch) => {
      const { PGlite } = await import('@electric-sql/pglite');
      const db = await PGlite.create('memory://');
      try {
        const tar = await db.dumpDataDir('none');
        await writeFile(scratch, Buffer.from(await tar.arrayBuffer()));
      } finally {
        await db.close();
      }
    });
    return new Blob([await readFile(target)]);
  })();
  return dump;
}
