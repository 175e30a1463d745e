import { describe, expect, it } from 'vitest';
import { sampleCdr } from '../../domain/cdr/fixtures.js';
import { cdrsAsCsv } from './cdr-export.js';
import { CliError } from './run.js';
import { theirSummaries } from './settlement-statement.js';

const exportRow = (cdr = sampleCdr()) => ({
  cdr_id: cdr.id, transaction_id: 'tx-1', tenant_id: 'acme', emsp: 'DE-EMP', start_date_time: cdr.start_date_time, end_date_time: cdr.end_date_time,
  tariff_version_id: 'T-STD@3', replaces_cdr_id: null, cdr_json: JSON.stringify(cdr),
});

describe('settlement reconcile: their statement', () => {
  it('reads our own CSV export back with incl VAT and time, quoted cells included', () => {
    const cdr = sampleCdr({ cdr_token: { ...sampleCdr().cdr_token, uid: 'A,"B"' } });
    expect(theirSummaries(cdrsAsCsv([exportRow(cdr)]))).toEqual([
      { cdrId: 'CDR-1', sessionId: 'S-1', startDateTime: '2025-03-01T10:00:00.000Z', amount: '7', amountInclVat: '8.47', energyKwh: '20', timeHours: '1', creditReferenceId: null },
    ]);
  });

  it('reads a minimal CSV: incl VAT and time not stated (absent column or empty cell)', () => {
    const csv = 'cdr_id,start_date_time,total_cost_excl_vat,total_energy_kwh,total_time_h\nA,2025-03-01T10:00:00Z,7.00,20,\n';
    expect(theirSummaries(csv)).toEqual([{ cdrId: 'A', sessionId: null, startDateTime: '2025-03-01T10:00:00Z', amount: '7', amountInclVat: null, energyKwh: '20', timeHours: null, creditReferenceId: null }]);
  });

  it('reads OCPI JSON with numbers', () => {
    const json = JSON.stringify([{ id: 'A', start_date_time: '2025-03-01T10:00:00Z', total_cost: { excl_vat: 3.7, incl_vat: 4.48 }, total_energy: 12.345, total_time: 0.6667 }]);
    expect(theirSummaries(json)).toMatchObject([{ cdrId: 'A', amount: '3.7', amountInclVat: '4.48', energyKwh: '12.345', timeHours: '0.6667' }]);
  });

  it('refuses a CSV without a needed column, a ragged line or a non-number, as a usage error', () => {
    expect(() => theirSummaries('cdr_id,start_date_time\nA,2025-03-01T10:00:00Z\n')).toThrow(/no column total_cost_excl_vat, total_energy_kwh/);
    expect(() => theirSummaries('cdr_id,start_date_time,total_cost_excl_vat,total_energy_kwh\nA,x\n')).toThrow(CliError);
    expect(() => theirSummaries('cdr_id,start_date_time,total_cost_excl_vat,total_energy_kwh\nA,2025-03-01T10:00:00Z,7;00,20\n')).toThrow(/line 2 total_cost_excl_vat: not a number/);
  });
});
