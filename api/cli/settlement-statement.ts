import { parse } from 'csv-parse/sync';
import { Decimal } from 'decimal.js';
import { decimalString, isCurrencyCode } from '../../domain/cdr/money.js';
import { cdrSummarySchema, cdrsPerPeriodMax, type CdrSummary } from '../../domain/settlement/events.js';
import { restoredCell } from './cdr-export.js';
import { CliError, ExitCode } from './run.js';

/**
 * A partner's statement for `csms settlement reconcile`: an OCPI CDR JSON array (numbers or
 * decimal strings), or CSV with at least the columns below (what `csms cdr export --format csv`
 * writes has them all). Incl VAT, time and currency are optional: a statement without them is
 * reconciled on the rest, and the output says they were not compared.
 *
 * Figures are kept as written ("20.00" stays "20.00", JSON numbers included, read from the text,
 * never through a double): their decimals are the precision reconciliation allows for, and an
 * amount of 17 digits is not rounded. Every row is checked here, before anything is recorded.
 */

const requiredCsvColumns = ['cdr_id', 'start_date_time', 'total_cost_excl_vat', 'total_energy_kwh'] as const;

/** One row of the statement: its CDR summary, its currency (null: not stated) and where it is, for messages. */
export interface StatementRow {
  readonly summary: CdrSummary;
  readonly currency: string | null;
  /** "line 3" (CSV, as a spreadsheet numbers it) or "[2]" (JSON array index). */
  readonly where: string;
}

const refuse = (message: string): never => {
  throw new CliError(`their statement ${message}`, ExitCode.usage);
};

/** Decimals a number as written states: "1.25" → 2, "2000e-2" → 2, "1.2e1" → 0. */
function writtenDecimals(text: string): number {
  const match = /^[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  return match === null ? 0 : Math.max(0, (match[1]?.length ?? 0) - Number(match[2] ?? 0));
}

/** A figure as a plain decimal string keeping the decimals it is written with. */
function decimalText(value: unknown, field: string): string {
  const text = typeof value === 'string' ? value.trim() : undefined;
  if (text !== undefined && decimalString.safeParse(text).success) return text;
  let decimal: Decimal | undefined;
  try {
    decimal = text === undefined || text === '' ? undefined : new Decimal(text);
  } catch {
    decimal = undefined;
  }
  if (decimal === undefined || !decimal.isFinite()) return refuse(`${field}: not a number: ${String(value)}`);
  const plain = decimal.toFixed(writtenDecimals(text!));
  if (!decimalString.safeParse(plain).success) return refuse(`${field}: ${String(value)} has more than 60 characters`);
  return plain;
}

/** A figure the statement may leave out: absent or an empty cell is "not stated". */
const optionalDecimal = (value: unknown, field: string): string | null => (value === undefined || value === null || value === '' ? null : decimalText(value, field));

function optionalCurrency(value: unknown, where: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  const code = String(value).trim();
  if (!isCurrencyCode(code)) refuse(`${where} currency: ${code} is not an ISO 4217 currency code`);
  return code;
}

/** The summary checked as settlement will check it, each problem named with the statement's own field name. */
function checkedSummary(summary: CdrSummary, where: string, fieldNames: Readonly<Record<keyof CdrSummary, string>>): CdrSummary {
  const parsed = cdrSummarySchema.safeParse(summary);
  if (parsed.success) return summary;
  const issue = parsed.error.issues[0]!;
  const field = fieldNames[issue.path[0] as keyof CdrSummary] ?? String(issue.path[0]);
  return refuse(`${where} ${field}: ${issue.message} (${JSON.stringify(summary[issue.path[0] as keyof CdrSummary])})`);
}

const jsonNumber = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The JSON text with every number token quoted, so JSON.parse hands back the digits as written.
 * Only called on text JSON.parse has accepted: outside strings, a '-' or digit starts a number.
 */
function numbersQuoted(text: string): string {
  const parts: string[] = [];
  let copiedUpTo = 0;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '"') {
      for (i += 1; i < text.length && text[i] !== '"'; i += text[i] === '\\' ? 2 : 1);
      i += 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      jsonNumber.lastIndex = i;
      const token = jsonNumber.exec(text)![0];
      parts.push(text.slice(copiedUpTo, i), '"', token, '"');
      i += token.length;
      copiedUpTo = i;
    } else i += 1;
  }
  parts.push(text.slice(copiedUpTo));
  return parts.join('');
}

const jsonFieldNames = {
  cdrId: 'id', sessionId: 'session_id', startDateTime: 'start_date_time', amount: 'total_cost.excl_vat', amountInclVat: 'total_cost.incl_vat',
  energyKwh: 'total_energy', timeHours: 'total_time', creditReferenceId: 'credit_reference_id',
} as const;

function fromOcpiJson(text: string): StatementRow[] {
  try {
    JSON.parse(text);
  } catch (error) {
    throw new CliError(`their file is not JSON: ${(error as Error).message}`, ExitCode.usage);
  }
  const list = JSON.parse(numbersQuoted(text)) as unknown;
  if (!Array.isArray(list)) return refuse('is not a JSON array of OCPI CDRs');
  if (list.length > cdrsPerPeriodMax) refuse(`has ${list.length} CDRs, more than ${cdrsPerPeriodMax}`);
  return list.map((item: unknown, i): StatementRow => {
    const where = `[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return refuse(`${where}: not an OCPI CDR object`);
    const cdr = item as Record<string, unknown>;
    if (cdr.id === undefined || cdr.id === null || cdr.id === '') return refuse(`${where}: no "id"`);
    // Numbers arrive quoted (numbersQuoted): anything else but a string is no CDR id.
    if (typeof cdr.id !== 'string') return refuse(`${where}: "id" is not a string`);
    const cost = (typeof cdr.total_cost === 'object' && cdr.total_cost !== null ? cdr.total_cost : {}) as { excl_vat?: unknown; incl_vat?: unknown };
    const summary = {
      cdrId: String(cdr.id),
      sessionId: typeof cdr.session_id === 'string' ? cdr.session_id : null,
      startDateTime: String(cdr.start_date_time),
      amount: decimalText(cost.excl_vat, `${where}.total_cost.excl_vat`),
      amountInclVat: optionalDecimal(cost.incl_vat, `${where}.total_cost.incl_vat`),
      energyKwh: decimalText(cdr.total_energy, `${where}.total_energy`),
      timeHours: optionalDecimal(cdr.total_time, `${where}.total_time`),
      creditReferenceId: typeof cdr.credit_reference_id === 'string' ? cdr.credit_reference_id : null,
    };
    return { summary: checkedSummary(summary, where, jsonFieldNames), currency: optionalCurrency(cdr.currency, where), where };
  });
}

const csvFieldNames = {
  cdrId: 'cdr_id', sessionId: 'session_id', startDateTime: 'start_date_time', amount: 'total_cost_excl_vat', amountInclVat: 'total_cost_incl_vat',
  energyKwh: 'total_energy_kwh', timeHours: 'total_time_h', creditReferenceId: 'credit_reference_id',
} as const;

function fromCsv(text: string): StatementRow[] {
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
  if (records.length > cdrsPerPeriodMax) refuse(`has ${records.length} CDRs, more than ${cdrsPerPeriodMax}`);
  // Line numbers as a spreadsheet shows them: the header is line 1.
  return records.map((record, i): StatementRow => {
    const where = `line ${i + 2}`;
    const at = (column: string) => `${where} ${column}`;
    if (!record.cdr_id) refuse(`${where}: no cdr_id`);
    const summary = {
      // Our own export defuses formula-like cells ("'=X", cdr-export.ts): read back as issued.
      cdrId: restoredCell(record.cdr_id!),
      sessionId: record.session_id ? restoredCell(record.session_id) : null,
      startDateTime: record.start_date_time!,
      amount: decimalText(record.total_cost_excl_vat, at('total_cost_excl_vat')),
      amountInclVat: optionalDecimal(record.total_cost_incl_vat, at('total_cost_incl_vat')),
      energyKwh: decimalText(record.total_energy_kwh, at('total_energy_kwh')),
      timeHours: optionalDecimal(record.total_time_h, at('total_time_h')),
      creditReferenceId: record.credit_reference_id ? restoredCell(record.credit_reference_id) : null,
    };
    return { summary: checkedSummary(summary, where, csvFieldNames), currency: optionalCurrency(record.currency, where), where };
  });
}

/** The partner's CDRs, each with its currency, from the text of their statement; refuses any row settlement could not take. */
export function theirStatement(text: string): StatementRow[] {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  return trimmed.startsWith('[') ? fromOcpiJson(trimmed) : fromCsv(trimmed);
}

/** The partner's CDRs from the text of their statement. */
export function theirSummaries(text: string): CdrSummary[] {
  return theirStatement(text).map((row) => row.summary);
}
