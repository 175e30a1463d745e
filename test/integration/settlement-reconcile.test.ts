import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openServices } from '../../api/composition.js';
import { loadConfig } from '../../api/config.js';
import type { Command } from '../../commands/index.js';
import { sampleCdr, sampleTariff } from '../../domain/cdr/fixtures.js';
import type { OcpiCdr } from '../../domain/cdr/ocpi.js';
import { runCliInProcess, tempDataDirInitialized } from '../support/cli-in-process.js';

/**
 * `csms settlement reconcile` as finance meets it, on the embedded database: a partner's statement
 * with a double charge and coarser figures, a CDR that arrived after its month's period closed, and
 * a partner billed in two currencies (one CHF row against a CDR we issued in EUR).
 */

const tariff = { ...sampleTariff, country_code: 'NL', party_id: 'CSM' };
/** A one-hour CDR of ours starting at `start`, owed by the token's eMSP. */
const cdrAt = (id: string, start: string, overrides: Partial<OcpiCdr> = {}): OcpiCdr => {
  const end = new Date(Date.parse(start) + 3_600_000).toISOString();
  return sampleCdr({
    id, session_id: `S-${id}`, party_id: 'CSM', tariffs: [tariff], start_date_time: start, end_date_time: end, last_updated: end,
    charging_periods: [{ start_date_time: start, dimensions: [{ type: 'ENERGY', volume: '20' }], tariff_id: 'T-STD' }],
    ...overrides,
  });
};
const xyzToken = { ...sampleCdr().cdr_token, party_id: 'XYZ', contract_id: 'DE-XYZ-C00000001-X' };
const inChf = { currency: 'CHF', tariffs: [{ ...tariff, currency: 'CHF' }], cdr_token: xyzToken };
const cdrs = [
  cdrAt('E-1', '2025-03-05T10:00:00Z'),
  cdrAt('E-2', '2025-03-06T10:00:00Z', { total_time: '1.2483' }),
  // Started in February; February's period closed before it reached us.
  cdrAt('LATE-1', '2025-02-27T10:00:00Z'),
  cdrAt('X-E', '2025-03-07T10:00:00Z', { cdr_token: xyzToken }),
  cdrAt('X-C', '2025-03-08T10:00:00Z', inChf),
];

let data: { dir: string; remove(): Promise<void> };
let env: Record<string, string>;
const reconcile = (partner: string, file: string, ...options: string[]) =>
  runCliInProcess(['settlement', 'reconcile', '--partner', partner, '--period', '2025-03', '--their', file, ...options], { env });
const statement = async (name: string, lines: string[]) => {
  const file = path.join(data.dir, name);
  await writeFile(file, `cdr_id,start_date_time,currency,total_cost_excl_vat,total_cost_incl_vat,total_energy_kwh,total_time_h\n${lines.join('\n')}\n`);
  return file;
};

beforeAll(async () => {
  data = await tempDataDirInitialized('settlement-reconcile');
  env = { DATA_DIR: data.dir, TENANT_ID: 'acme' };
  const services = await openServices(loadConfig(env), { command: 'test' });
  let n = 0;
  const send = (aggregateId: string, command: Command, commandId = `setup-${n}`) =>
    services.bus.send({ commandId, tenantId: 'acme', aggregateId, actor: 'user:test', correlationId: `c-${n++}`, occurredAt: '2025-04-01T00:00:00Z', command });
  try {
    // February of DE-EMP, opened before periods were per currency, closed without LATE-1.
    await send('DE-EMP:2025-02', { type: 'OpenSettlementPeriod', partner: 'DE-EMP', period: '2025-02', currency: 'EUR', openedAt: '2025-03-01T00:00:00Z' });
    await send('DE-EMP:2025-02', { type: 'CloseSettlementPeriod', closedAt: '2025-03-01T00:00:00Z' });
    const issued = new Map<string, OcpiCdr>();
    for (const cdr of cdrs) {
      const result = await send(cdr.id, { type: 'IssueCdr', cdr, transactionId: `tx-${cdr.id}`, tenantId: 'acme', tariffVersionId: 'T-STD@1' });
      issued.set(cdr.id, (result.events[0]!.data as { cdr: OcpiCdr }).cdr);
    }
    // March of DE-XYZ as a run before periods were per currency left it (its command ids): opened
    // in EUR with X-E, then X-C (CHF) refused, the period open and half filled.
    const before = 'DE-XYZ:2025-03';
    await send(before, { type: 'OpenSettlementPeriod', partner: 'DE-XYZ', period: '2025-03', currency: 'EUR', openedAt: '2025-04-01T00:00:00Z' }, `settlement-open:${before}`);
    const { summaryOfOcpiCdr } = await import('../../domain/settlement/reconcile.js');
    const xe = { type: 'IncludeCdr' as const, cdr: summaryOfOcpiCdr(issued.get('X-E')!), currency: 'EUR', includedAt: '2025-04-01T00:00:00Z' };
    await send(before, xe, `settlement-include:${before}:X-E`);
  } finally {
    await services.close();
  }
});
afterAll(() => data.remove());

describe('csms settlement reconcile: a statement finance can trust', () => {
  it('flags a double charge, allows for the statement precision, settles a CDR that arrived after its period closed', async () => {
    const file = await statement('emp.csv', [
      'E-1,2025-03-05T10:00:00Z,EUR,7.00,8.47,20.00,1.00',
      'E-1,2025-03-05T10:00:00Z,EUR,9.00,10.89,20.00,1.00',
      // Their hours to 2 decimals: 1.25 for our 1.2483.
      'E-2,2025-03-06T10:00:00Z,EUR,7.00,8.47,20.00,1.25',
      'LATE-1,2025-02-27T10:00:00Z,EUR,7.00,8.47,20.00,1.00',
    ]);
    const result = await reconcile('DE-EMP', file);
    expect(result.stdout).toMatch(/^their statement states time_h to 2 decimals: time tolerance widened to ±18 s \(half its last decimal\)$/m);
    expect(result.stdout).toMatch(/^-\s+E-1\s+duplicate on their side\s+excl_vat\s+-\s+9\.00\s+OTHER FIGURES than its first row \(excl_vat 7\.00 first, incl_vat 8\.47 first\)$/m);
    expect(result.stdout).toMatch(/^E-2\s+E-2\s+matched\s/m);
    expect(result.stdout).toMatch(/^LATE-1\s+LATE-1\s+matched\s/m);
    expect(result.stdout).toMatch(/^settled here after their own month's period closed: LATE-1 \(started 2025-02\)$/m);
    expect(result.stdout).toMatch(/^DE-EMP 2025-03 EUR: 3 paired \(3 matched\), .*; duplicate rows: 1 on their side \(1 with other figures\), 0 on ours$/m);
    expect(result.exitCode).toBe(1);
  });

  it('finishes a period left half filled by a second currency, reconciles each currency in a period of its own, flags a CHF row against a CDR we issued in EUR', async () => {
    const file = await statement('xyz.csv', ['X-E,2025-03-07T10:00:00Z,CHF,7.00,8.47,20.00,1.00', 'X-C,2025-03-08T10:00:00Z,CHF,7.00,8.47,20.00,1.00']);
    const text = await reconcile('DE-XYZ', file);
    expect(text.stderr).not.toMatch(/is in CHF, the period in EUR/);
    expect(text.stdout).toMatch(/^X-C\s+X-C\s+matched\s/m);
    expect(text.stdout).toMatch(/^DE-XYZ 2025-03 CHF: 1 paired \(1 matched\), .*; 0 missing on their side, 1 missing on ours;/m);
    expect(text.stdout).toMatch(/^DE-XYZ 2025-03 EUR: 0 paired \(0 matched\), .*; 1 missing on their side, 0 missing on ours;/m);
    expect(text.stdout).toMatch(/^currency: their line 2 bills X-E in CHF; we issued it in EUR$/m);
    expect(text.exitCode).toBe(1);

    // Both periods closed whole: the rerun reconciles again, in JSON, one record per currency.
    const json = await reconcile('DE-XYZ', file, '--json');
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { currency: 'CHF', counts: { ours: 1, theirs: 2, matched: 1, missingOnOurSide: 1 } },
      { currency: 'EUR', counts: { ours: 1, theirs: 0, missingOnTheirSide: 1 } },
    ]);
    expect(json.stderr).toMatch(/currency: their line 2 bills X-E in CHF; we issued it in EUR/);

    // EUR went on in the period already opened (one EUR period for the month, never two); CHF has its own.
    const services = await openServices(loadConfig(env), { command: 'test' });
    try {
      const types = async (id: string) => (await services.eventStore.readStream(`settlement-acme-${id}`)).map((event) => event.type);
      expect(await types('DE-XYZ:2025-03')).toEqual(['SettlementPeriodOpened', 'CdrIncluded', 'SettlementPeriodClosed', 'SettlementReconciled', 'SettlementReconciled']);
      expect(await types('DE-XYZ:2025-03:EUR')).toEqual([]);
      expect(await types('DE-XYZ:2025-03:CHF')).toEqual(['SettlementPeriodOpened', 'CdrIncluded', 'SettlementPeriodClosed', 'SettlementReconciled', 'SettlementReconciled']);
    } finally {
      await services.close();
    }
  });
});
