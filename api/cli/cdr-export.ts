import { stringify } from 'csv-stringify/sync';
import { Decimal } from 'decimal.js';
import type { IssuedCdr } from '../../domain/cdr/events.js';
import type { OcpiCdr, Price } from '../../domain/cdr/ocpi.js';
import { vatSharesOf } from '../../domain/ledger/vat.js';
import { InvalidCommandError } from '../../domain/shared/errors.js';
import { sendableCdr } from '../../ocpi/cdrs/wire.js';

/**
 * `csms cdr export`: the CDRs of the `cdrs` read model as OCPI 2.2.1 JSON (what an eMSP receives)
 * or as CSV for finance. Both read the CDR as issued (`cdr_json`, decimal strings), so every
 * figure is the one the ledger posted. The CSV columns are documented in docs/cdr-export.md.
 */

/** The read-model columns the export reads. */
export interface CdrExportRow {
  readonly cdr_id: string;
  readonly transaction_id: string;
  readonly tenant_id: string;
  readonly emsp: string;
  readonly start_date_time: Date | string;
  readonly end_date_time: Date | string;
  readonly tariff_version_id: string | null;
  readonly replaces_cdr_id: string | null;
  readonly cdr_json: string;
}

/**
 * OCPI JSON: each CDR in its wire form (JSON numbers, not our decimal strings) and checked against
 * the OCPI 2.2.1 CDR schema, exactly as the CDRs module serves it (ocpi/cdrs/wire.ts). A CDR that
 * fails is a bug in how it was issued: the export stops rather than hand out a CDR a partner
 * must refuse.
 */
export function cdrsAsOcpiJson(rows: readonly CdrExportRow[]): string {
  if (rows.length === 0) return '[]';
  return `[\n${rows.map((row) => JSON.stringify(sendableCdr(row.cdr_id, row.cdr_json))).join(',\n')}\n]`;
}

/** CSV columns, in order: the first twelve are those of earlier versions, so older imports keep working. */
export const cdrCsvColumns = [
  'cdr_id', 'session_id', 'start_date_time', 'end_date_time', 'emsp', 'currency',
  'total_cost_excl_vat', 'total_cost_incl_vat', 'total_energy_kwh', 'total_time_h', 'credit', 'credit_reference_id',
  'vat_amount', 'vat_rate_percent', 'vat_per_rate',
  'energy_cost_excl_vat', 'energy_cost_incl_vat', 'time_cost_excl_vat', 'time_cost_incl_vat',
  'parking_cost_excl_vat', 'parking_cost_incl_vat', 'fixed_cost_excl_vat', 'fixed_cost_incl_vat',
  'reservation_cost_excl_vat', 'reservation_cost_incl_vat', 'total_parking_time_h',
  'token_uid', 'token_type', 'contract_id', 'token_party',
  'location_id', 'evse_uid', 'evse_id', 'connector_id',
  'tariff_id', 'tariff_version',
] as const;
export type CdrCsvColumn = (typeof cdrCsvColumns)[number];

const isoTime = (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString();
const decimalsOf = (value: string) => value.split('.')[1]?.length ?? 0;

/** incl − excl in the notation of the figures (3.70 and 4.48 give 0.78; 7.00 and 7.00 give 0.00). */
function vatOf(price: Price): string {
  if (price.incl_vat === undefined) return '';
  return new Decimal(price.incl_vat).minus(price.excl_vat).toFixed(Math.max(decimalsOf(price.incl_vat), decimalsOf(price.excl_vat)));
}

/**
 * The VAT rates as the ledger posted them (domain/ledger/vat.ts): one rate, or for a CDR whose
 * costs carry different rates each rate with its share ("9:0.12;21:0.50"). Empty where the CDR
 * has no VAT or its tariff snapshot names no rate.
 */
function vatRates(issued: IssuedCdr): { rates: string; perRate: string } {
  let shares: ReturnType<typeof vatSharesOf>;
  try {
    shares = vatSharesOf(issued);
  } catch (error) {
    // The ledger refuses such a CDR's entry the same way; the export still lists the CDR.
    if (error instanceof InvalidCommandError) return { rates: '', perRate: '' };
    throw error;
  }
  return {
    rates: shares.map((share) => share.ratePercent).join(';'),
    perRate: shares.length > 1 ? shares.map((share) => `${share.ratePercent}:${share.amount.toFixed()}`).join(';') : '',
  };
}

/**
 * "TARIFF@3" (domain/tariff/aggregate: tariffVersionIdOf) into its tariff id and version. The id
 * is split at the last "@": OCPI tariff ids may contain one themselves.
 */
export function tariffVersionParts(versionId: string | null): { tariffId: string; version: string } {
  if (versionId === null) return { tariffId: '', version: '' };
  const at = versionId.lastIndexOf('@');
  return at < 0 ? { tariffId: versionId, version: '' } : { tariffId: versionId.slice(0, at), version: versionId.slice(at + 1) };
}

export function cdrCsvRecord(row: CdrExportRow): Record<CdrCsvColumn, string> {
  const cdr = JSON.parse(row.cdr_json) as OcpiCdr;
  const issued: IssuedCdr = { cdr, transactionId: row.transaction_id, tenantId: row.tenant_id, tariffVersionId: row.tariff_version_id, replacesCdrId: row.replaces_cdr_id };
  const { rates, perRate } = vatRates(issued);
  // No version recorded (a free session): the snapshot's tariff ids, if any, still say what applied.
  const tariff = row.tariff_version_id === null ? { tariffId: (cdr.tariffs ?? []).map((t) => t.id).join(';'), version: '' } : tariffVersionParts(row.tariff_version_id);
  const part = (price: Price | undefined) => ({ excl: price?.excl_vat ?? '', incl: price?.incl_vat ?? '' });
  const [energy, time, parking, fixed, reservation] = [cdr.total_energy_cost, cdr.total_time_cost, cdr.total_parking_cost, cdr.total_fixed_cost, cdr.total_reservation_cost].map(part) as [
    ReturnType<typeof part>, ReturnType<typeof part>, ReturnType<typeof part>, ReturnType<typeof part>, ReturnType<typeof part>,
  ];
  const { cdr_token: token, cdr_location: location } = cdr;
  return {
    cdr_id: cdr.id,
    session_id: cdr.session_id ?? '',
    start_date_time: isoTime(row.start_date_time),
    end_date_time: isoTime(row.end_date_time),
    emsp: row.emsp,
    currency: cdr.currency,
    total_cost_excl_vat: cdr.total_cost.excl_vat,
    total_cost_incl_vat: cdr.total_cost.incl_vat ?? '',
    total_energy_kwh: cdr.total_energy,
    total_time_h: cdr.total_time,
    credit: String(cdr.credit === true),
    credit_reference_id: cdr.credit_reference_id ?? '',
    vat_amount: vatOf(cdr.total_cost),
    vat_rate_percent: rates,
    vat_per_rate: perRate,
    energy_cost_excl_vat: energy.excl,
    energy_cost_incl_vat: energy.incl,
    time_cost_excl_vat: time.excl,
    time_cost_incl_vat: time.incl,
    parking_cost_excl_vat: parking.excl,
    parking_cost_incl_vat: parking.incl,
    fixed_cost_excl_vat: fixed.excl,
    fixed_cost_incl_vat: fixed.incl,
    reservation_cost_excl_vat: reservation.excl,
    reservation_cost_incl_vat: reservation.incl,
    total_parking_time_h: cdr.total_parking_time ?? '',
    token_uid: token.uid,
    token_type: token.type,
    contract_id: token.contract_id,
    token_party: `${token.country_code}-${token.party_id}`,
    location_id: location.id,
    evse_uid: location.evse_uid,
    evse_id: location.evse_id,
    connector_id: location.connector_id,
    tariff_id: tariff.tariffId,
    tariff_version: tariff.version,
  };
}

/** What a spreadsheet takes for the start of a formula (OWASP "CSV Injection"): = + - @ tab and CR. */
const formulaStart = /^[=+\-@\t\r]/;
/** A plain number ("-7.00", "20"): a spreadsheet reads it as the number it is, never a formula. */
const plainNumber = /^[+-]?\d+(\.\d+)?$/;

/**
 * A cell a spreadsheet would run as a formula, prefixed with a single quote so it shows as text
 * (OWASP "CSV Injection"). Token uids, contract ids and location fields come from eMSPs and
 * stations: `=HYPERLINK(...)` as a token uid must not become a link in finance's spreadsheet.
 * Numbers (a credit CDR's -7.00) stay numbers.
 */
export function defusedCell(cell: string): string {
  return formulaStart.test(cell) && !plainNumber.test(cell) ? `'${cell}` : cell;
}

/**
 * The cell as it was before defusedCell, for reading an export back (`settlement reconcile
 * --their`, a partner's statement built from our CSV): "'=X" is "=X" again, so CDR ids match.
 */
export function restoredCell(cell: string): string {
  return cell.startsWith("'") && formulaStart.test(cell.slice(1)) && !plainNumber.test(cell.slice(1)) ? cell.slice(1) : cell;
}

function defusedRecord(record: Record<CdrCsvColumn, string>): Record<CdrCsvColumn, string> {
  return Object.fromEntries(Object.entries(record).map(([column, cell]) => [column, defusedCell(cell)])) as Record<CdrCsvColumn, string>;
}

/**
 * RFC 4180 CSV with a header line: a cell holding a comma, quote or line break is quoted (a
 * location name or token uid can hold any of them). Lines end in LF; a CR inside a cell is quoted
 * too, so no reader takes it for the end of a record. No cell starts a formula (defusedCell).
 */
export function cdrsAsCsv(rows: readonly CdrExportRow[]): string {
  return stringify(rows.map((row) => defusedRecord(cdrCsvRecord(row))), { header: true, columns: [...cdrCsvColumns], record_delimiter: 'unix', quoted_match: /\r/ });
}
