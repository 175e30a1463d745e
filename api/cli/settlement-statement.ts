import { parse } from 'csv-parse/sync';
import { Decimal } from 'decimal.js';
import type { CdrSummary } from '../../domain/settlement/events.js';
import { CliError, ExitCode } from './run.js';

/**
 * A partner's statement for `csms settlement reconcile`: an OCPI CDR JSON array (numbers or
 * decimal strings), or CSV with at least the columns below (what `csms cdr export --format csv`
 * writes has them all). Incl VAT and time are optional: a statement without them is reconciled
 * on the rest, and the output says they were not compared.
 */

const requiredCsvColumns = ['cdr_id', 'start_date_time', 'total_cost_excl_vat', 'total_energy_kwh'] as const;

const decimalText = (value: unknown, field: string): string => {
  try {
    return new Decimal(value as string | number).toFixed();
  } catch {
    throw new CliError(`${field}: not a number: ${String(value)}`, ExitCode.usage);
  }
};

/** A figure the statement may leave out: absent or an empty cell is "not stated". */
const optionalDecimal = (value: unknown, field: string): string | null => (value === undefined || value === null || value === '' ? null : decimalText(value, field));

function fromOcpiJson(text: string): CdrSummary[] {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (error) {
    throw new CliError(`their file is not JSON: ${(error as Error).message}`, ExitCode.usage);
  }
  if (!Array.isArray(list)) throw new CliError('their file: expected a JSON array of OCPI CDRs', ExitCode.usage);
  return (list as Record<string, unknown>[]).map((cdr, i) => {
    const cost = (cdr.total_cost ?? {}) as { excl_vat?: unknown; incl_vat?: unknown };
    return {
      cdrId: String(cdr.id),
      sessionId: typeof cdr.session_id === 'string' ? cdr.session_id : null,
      startDateTime: String(cdr.start_date_time),
      amount: decimalText(cost.excl_vat, `[${i}].total_cost.excl_vat`),
      amountInclVat: optionalDecimal(cost.incl_vat, `[${i}].total_cost.incl_vat`),
      energyKwh: decimalText(cdr.total_energy, `[${i}].total_energy`),
      timeHours: optionalDecimal(cdr.total_time, `[${i}].total_time`),
      creditReferenceId: typeof cdr.credit_reference_id === 'string' ? cdr.credit_reference_id : null,
    };
  });
}

function fromCsv(text: string): CdrSummary[] {
  const checkedHeader = (header: string[]) => {
    const missing = requiredCsvColumns.filter((column) => !header.includes(column));
    if (missing.length > 0) throw new CliError(`their CSV has no column ${missing.join(', ')} (needs ${requiredCsvColumns.join(', ')})`, ExitCode.usage);
    return header;
  };
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: checkedHeader, bom: true, skip_empty_lines: true }) as Record<string, string>[];
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`their CSV cannot be read: ${(error as Error).message}`, ExitCode.usage);
  }
  // Line numbers as a spreadsheet shows them: the header is line 1.
  return records.map((record, i) => {
    const at = (column: string) => `line ${i + 2} ${column}`;
    return {
      cdrId: record.cdr_id!,
      sessionId: record.session_id ? record.session_id : null,
      startDateTime: record.start_date_time!,
      amount: decimalText(record.total_cost_excl_vat, at('total_cost_excl_vat')),
      amountInclVat: optionalDecimal(record.total_cost_incl_vat, at('total_cost_incl_vat')),
      energyKwh: decimalText(record.total_energy_kwh, at('total_energy_kwh')),
      timeHours: optionalDecimal(record.total_time_h, at('total_time_h')),
      creditReferenceId: record.credit_reference_id ? record.credit_reference_id : null,
    };
  });
}

/** The partner's CDRs from the text of their statement. */
export function theirSummaries(text: string): CdrSummary[] {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  return trimmed.startsWith('[') ? fromOcpiJson(trimmed) : fromCsv(trimmed);
}
