import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdrCsvColumns } from '../../api/cli/cdr-export.js';
import { openServices } from '../../api/composition.js';
import { loadConfig } from '../../api/config.js';
import { sampleCdr, sampleTariff } from '../../domain/cdr/fixtures.js';
import { cdrSchema } from '../../ocpi/schemas/index.js';
import { runCliInProcess, tempDataDirInitialized } from '../support/cli-in-process.js';

/**
 * `csms cdr export` and `csms settlement reconcile` as finance runs them, on the embedded
 * database: CDRs issued through the command bus, exported as OCPI (checked against the OCPI 2.2.1
 * CDR schema) and as CSV, and a partner's statement built from that CSV reconciled field by field
 * (the tests run in order: the statement is the export's).
 */

const tariff = { ...sampleTariff, country_code: 'NL', party_id: 'CSM' };
const cdrA = sampleCdr({ id: 'CDR-A', session_id: 'S-A', party_id: 'CSM', tariffs: [tariff] });
// A token uid (an eMSP's) that is a spreadsheet formula with a comma and quotes: the CSV quotes
// it and defuses it with a leading ' (OWASP CSV injection), and reads back otherwise unchanged.
const formulaUid = '=HYPERLINK("http://x.example","B,1")';
const cdrB = sampleCdr({
  id: 'CDR-B', session_id: 'S-B', party_id: 'CSM', tariffs: [tariff],
  cdr_token: { ...sampleCdr().cdr_token, uid: formulaUid },
});

let data: { dir: string; remove(): Promise<void> };
let env: Record<string, string>;
const cli = (...args: string[]) => runCliInProcess(args, { env });
/** The CSV export's records, the base of the partner's statement below. */
let exportedCsv: Record<string, string>[] = [];

beforeAll(async () => {
  data = await tempDataDirInitialized('cdr-export');
  env = { DATA_DIR: data.dir, TENANT_ID: 'acme' };
  const services = await openServices(loadConfig(env), { command: 'test' });
  try {
    for (const [i, cdr] of [cdrA, cdrB].entries()) {
      const command = { type: 'IssueCdr' as const, cdr, transactionId: `tx-${cdr.id}`, tenantId: 'acme', tariffVersionId: 'T-STD@2' };
      await services.bus.send({ commandId: `issue-${i}`, tenantId: 'acme', aggregateId: cdr.id, actor: 'user:test', correlationId: `c-${i}`, occurredAt: cdr.last_updated, command });
    }
  } finally {
    await services.close();
  }
});
afterAll(() => data.remove());

describe('csms cdr export', () => {
  it('--format ocpi: every CDR valid against the OCPI 2.2.1 CDR schema, money and volumes as JSON numbers', async () => {
    const result = await cli('cdr', 'export', '--format', 'ocpi');
    expect(result.exitCode).toBe(0);
    const exported = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(exported.map((cdr) => cdr.id)).toEqual(['CDR-A', 'CDR-B']);
    for (const cdr of exported) expect(cdrSchema.safeParse(cdr).error).toBeUndefined();
    expect(exported[0]).toMatchObject({ total_cost: { excl_vat: 7, incl_vat: 8.47 }, total_energy: 20, total_time: 1, total_fixed_cost: { excl_vat: 1, incl_vat: 1.21 } });
  });

  it('--format csv: the documented header, VAT, cost parts, token, location and tariff version per CDR, quoted where needed', async () => {
    const result = await cli('cdr', 'export', '--format', 'csv');
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(cdrCsvColumns.join(','));
    exportedCsv = parse(result.stdout, { columns: true }) as Record<string, string>[];
    const [a, b] = exportedCsv;
    expect(a).toMatchObject({
      cdr_id: 'CDR-A', total_cost_excl_vat: '7.00', total_cost_incl_vat: '8.47', vat_amount: '1.47', vat_rate_percent: '21',
      energy_cost_excl_vat: '6.00', energy_cost_incl_vat: '7.26', fixed_cost_excl_vat: '1.00', fixed_cost_incl_vat: '1.21', time_cost_excl_vat: '',
      token_uid: '012345678', contract_id: 'DE-EMP-C12345678-X', token_party: 'DE-EMP',
      location_id: 'LOC-1', evse_uid: 'EVSE-1', evse_id: 'NL*CPO*E1', connector_id: '1', tariff_id: 'T-STD', tariff_version: '2',
    });
    expect(b!.token_uid).toBe(`'${formulaUid}`);
    expect(result.stdout).toContain(`"'=HYPERLINK(""http://x.example"",""B,1"")"`);
  });
});

describe('csms settlement reconcile', () => {
  const reconcile = (file: string, ...options: string[]) => cli('settlement', 'reconcile', '--partner', 'DE-EMP', '--period', '2025-03', '--their', file, ...options);

  it('compares excl and incl VAT, energy and time per CDR, names the field that differs, prints the tolerances', async () => {
    // Their statement: our CSV with A at the same excl VAT but another incl VAT, and B with
    // 2 Wh and 0.001 h (3.6 s) more and no incl VAT stated.
    const changes: Record<string, Record<string, string>> = { 'CDR-A': { total_cost_incl_vat: '8.40' }, 'CDR-B': { total_energy_kwh: '20.002', total_time_h: '1.001', total_cost_incl_vat: '' } };
    const file = path.join(data.dir, 'theirs.csv');
    await writeFile(file, stringify(exportedCsv.map((record) => ({ ...record, ...changes[record.cdr_id!] })), { header: true }));

    const text = await reconcile(file);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toMatch(/^tolerances \(inclusive\): money ±0 EUR \(excl\. and incl\. VAT\), energy ±0\.001 kWh, time ±1 s$/m);
    expect(text.stdout).toMatch(/^CDR-A\s+CDR-A\s+mismatch\s+incl_vat\s+8\.47\s+8\.4\s+0\.07$/m);
    expect(text.stdout).not.toMatch(/CDR-A\s+CDR-A\s+mismatch\s+excl_vat/);
    expect(text.stdout).toMatch(/^CDR-B\s+CDR-B\s+mismatch\s+energy_kwh\s+20\s+20\.002\s+-0\.002\s+incl_vat not compared \(their statement lacks it\)$/m);
    expect(text.stdout).toMatch(/^CDR-B\s+CDR-B\s+mismatch\s+time_h\s+1\s+1\.001\s+-0\.001$/m);
    expect(text.stdout).toMatch(/^DE-EMP 2025-03 EUR: 2 paired \(0 matched\), mismatches: excl_vat 0, incl_vat 1, energy_kwh 1, time_h 1; 0 missing on their side, 0 missing on ours; not compared: incl_vat 1, time_h 0; duplicate rows: 0 on their side \(0 with other figures\), 0 on ours$/m);

    // Wider energy and time tolerances from the command line; money stays exact.
    const json = await reconcile(file, '--tolerance-energy', '0.005', '--tolerance-time', '5', '--json');
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      tolerance: { amount: '0', energyKwh: '0.005', timeSeconds: '5' },
      compared: ['amount', 'amountInclVat', 'energyKwh', 'timeHours'],
      counts: { matched: 2, amountMismatches: 0, amountInclVatMismatches: 1, energyMismatches: 0, timeMismatches: 0, amountInclVatNotCompared: 1 },
      amountInclVatMismatches: [{ ourCdrId: 'CDR-A', theirCdrId: 'CDR-A', ours: '8.47', theirs: '8.4', difference: '0.07' }],
      amountInclVatNotCompared: [{ ourCdrId: 'CDR-B', theirCdrId: 'CDR-B', lacking: 'theirs' }],
    });
  });
});
