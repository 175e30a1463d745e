import { describe, expect, it } from 'vitest';
import { sampleCdr } from '../../domain/cdr/fixtures.js';
import { cdrsAsCsv } from './cdr-export.js';
import { CliError } from './run.js';
import { theirStatement, theirSummaries } from './settlement-statement.js';

const exportRow = (cdr = sampleCdr()) => ({
  cdr_id: cdr.id, transaction_id: 'tx-1', tenant_id: 'acme', emsp: 'DE-EMP', start_date_time: cdr.start_date_time, end_date_time: cdr.end_date_time,
  tariff_version_id: 'T-STD@3', replaces_cdr_id: null, cdr_json: JSON.stringify(cdr),
});

describe('settlement reconcile: their statement', () => {
  it('reads our own CSV export back with incl VAT and time, quoted cells included', () => {
    const cdr = sampleCdr({ cdr_token: { ...sampleCdr().cdr_token, uid: 'A,"B"' } });
    expect(theirSummaries(cdrsAsCsv([exportRow(cdr)]))).toEqual([
      { cdrId: 'CDR-1', sessionId: 'S-1', startDateTime: '2025-03-01T10:00:00.000Z', amount: '7.00', amountInclVat: '8.47', energyKwh: '20', timeHours: '1', creditReferenceId: null },
    ]);
  });

  it('reads a minimal CSV: incl VAT and time not stated (absent column or empty cell)', () => {
    const csv = 'cdr_id,start_date_time,total_cost_excl_vat,total_energy_kwh,total_time_h\nA,2025-03-01T10:00:00Z,7.00,20,\n';
    expect(theirSummaries(csv)).toEqual([{ cdrId: 'A', sessionId: null, startDateTime: '2025-03-01T10:00:00Z', amount: '7.00', amountInclVat: null, energyKwh: '20', timeHours: null, creditReferenceId: null }]);
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

  it('keeps each figure as written: its decimals are the precision reconciliation widens to, JSON numbers included', () => {
    const csv = 'cdr_id,start_date_time,total_cost_excl_vat,total_energy_kwh,total_time_h\nA,2025-03-01T10:00:00Z,7.00,20.00,1.25\n';
    expect(theirSummaries(csv)[0]).toMatchObject({ amount: '7.00', energyKwh: '20.00', timeHours: '1.25' });
    const json = '[{"id":"A","start_date_time":"2025-03-01T10:00:00Z","total_cost":{"excl_vat":7.00},"total_energy":2000e-2,"total_time":1.25}]';
    expect(theirSummaries(json)[0]).toMatchObject({ amount: '7.00', energyKwh: '20.00', timeHours: '1.25' });
  });

  it('reads JSON numbers beyond double precision exactly, never rounded', () => {
    const json = '[{"id":"A","start_date_time":"2025-03-01T10:00:00Z","total_cost":{"excl_vat":12345678901234567.89,"incl_vat":"0.1"},"total_energy":0.30000000000000004441}]';
    expect(theirSummaries(json)[0]).toMatchObject({ amount: '12345678901234567.89', amountInclVat: '0.1', energyKwh: '0.30000000000000004441' });
  });

  it('refuses a JSON row without id, or not an object, naming the row', () => {
    const row = { start_date_time: '2025-03-01T10:00:00Z', total_cost: { excl_vat: 7 }, total_energy: 20 };
    expect(() => theirSummaries(JSON.stringify([{ ...row, id: 'A' }, row]))).toThrow(/their statement \[1\]: no "id"/);
    expect(() => theirSummaries(JSON.stringify([{ ...row, id: 'A' }, null]))).toThrow(/their statement \[1\]: not an OCPI CDR object/);
    expect(() => theirSummaries(JSON.stringify([{ ...row, id: { nested: 1 } }]))).toThrow(/their statement \[0\]: "id" is not a string/);
    expect(theirSummaries(JSON.stringify([{ ...row, id: 12 }]))[0]!.cdrId).toBe('12');
    expect(() => theirSummaries(JSON.stringify([{ ...row, id: 'A', start_date_time: 'March' }]))).toThrow(/their statement \[0\] start_date_time/);
  });

  it('refuses a CSV line with an empty cdr_id or a bad start, naming the line', () => {
    const header = 'cdr_id,start_date_time,total_cost_excl_vat,total_energy_kwh\n';
    expect(() => theirSummaries(`${header}A,2025-03-01T10:00:00Z,7.00,20\n,2025-03-01T10:00:00Z,7.00,20\n`)).toThrow(/their statement line 3: no cdr_id/);
    expect(() => theirSummaries(`${header}A,yesterday,7.00,20\n`)).toThrow(/their statement line 2 start_date_time/);
  });

  it('reads the currency of each row (CSV column, OCPI field), null where the statement states none; refuses one not ISO 4217', () => {
    const csv = 'cdr_id,start_date_time,currency,total_cost_excl_vat,total_energy_kwh\nA,2025-03-01T10:00:00Z,CHF,7.00,20\nB,2025-03-01T10:00:00Z,,7.00,20\n';
    expect(theirStatement(csv).map((row) => [row.summary.cdrId, row.currency, row.where])).toEqual([['A', 'CHF', 'line 2'], ['B', null, 'line 3']]);
    const json = JSON.stringify([{ id: 'A', start_date_time: '2025-03-01T10:00:00Z', currency: 'EUR', total_cost: { excl_vat: 7 }, total_energy: 20 }]);
    expect(theirStatement(json).map((row) => [row.currency, row.where])).toEqual([['EUR', '[0]']]);
    expect(theirStatement(cdrsAsCsv([exportRow()]))[0]!.currency).toBe('EUR');
    expect(() => theirStatement(csv.replace('CHF', 'EURO'))).toThrow(/their statement line 2 currency: EURO is not an ISO 4217 currency/);
  });
});
