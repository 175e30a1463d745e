import { expect } from 'vitest';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { allProjections, migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { generateChargingHistory, runCli } from '../support/cli.js';

/**
 * The acceptance test of "Event-sourced core": 10,000 events produced through the command bus,
 * projections caught up, then `csms projections rebuild --all` and `csms projections verify`
 * agree with the live read models, and `csms audit verify` catches an event altered in SQL.
 */

/** The acceptance size; the embedded run uses fewer (see cli-rebuild-embedded.test.ts). */
export const historyEventsMin = 10_000;
/** A rebuild or verify of 10,000 events is a few seconds here; generous for slow CI machines. */
export const cliTimeoutMs = 120_000;
export const testTimeoutMs = 300_000;

/** Generates the history and lets the projection runners catch up, as a running server would. */
export async function historyWithProjectionsCaughtUp(db: SqlDatabase, eventStore: EventStore, eventsMin = historyEventsMin): Promise<number> {
  const { events } = await generateChargingHistory(eventStore, eventsMin);
  await migrateProjections({ db, eventStore });
  const runners = startProjectionRunners({ db, eventStore }, { owner: 'acceptance-test' });
  try {
    await runners.idle();
  } finally {
    await runners.stop();
  }
  return events;
}

export async function rebuildVerifyAudit(env: Record<string, string>, tamper: () => Promise<string>, eventsMin = historyEventsMin): Promise<void> {
  const status = await runCli(['projections', 'status'], { env });
  expect(status.exitCode, status.stderr).toBe(0);

  const rebuild = await runCli(['projections', 'rebuild', '--all'], { env, timeoutMs: cliTimeoutMs });
  expect(rebuild.exitCode, rebuild.stderr).toBe(0);
  for (const projection of allProjections()) expect(rebuild.stdout).toMatch(new RegExp(`^${projection.name}: rebuilt from \\d+ events`, 'm'));

  const verify = await runCli(['projections', 'verify'], { env, timeoutMs: cliTimeoutMs });
  expect(verify.exitCode, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  for (const projection of allProjections()) {
    const line = verify.stdout.split('\n').find((text) => text.startsWith(`${projection.name}:`));
    expect(line, verify.stdout).toBeDefined();
    const [, live, rebuilt] = /live=(\S+) rebuilt=(\S+)/.exec(line!) ?? [];
    expect(live).toBeDefined();
    expect(live).toBe(rebuilt);
  }

  const intact = await runCli(['audit', 'verify'], { env, timeoutMs: cliTimeoutMs });
  expect(intact.exitCode, intact.stderr).toBe(0);
  expect(intact.stdout).toMatch(/audit ok: (\d+) events/);
  expect(Number(/audit ok: (\d+) events/.exec(intact.stdout)![1])).toBeGreaterThanOrEqual(eventsMin);

  const eventId = await tamper();
  const audit = await runCli(['audit', 'verify'], { env, timeoutMs: cliTimeoutMs });
  expect(audit.exitCode).toBe(1);
  expect(audit.stdout).toContain(`stream transaction-default-CP-0005-T2 revision 7 event ${eventId}`);
}

