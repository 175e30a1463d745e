import { InvalidTariffError } from './errors.js';
import { type Tariff, tariffSchema } from './schema.js';
import { utcMs } from './tariff-checks.js';

/** Validates an OCPI 2.2.1 Tariff (shape and cross-field rules); throws InvalidTariffError listing every issue. */
export function parseTariff(input: unknown): Tariff {
  const result = tariffSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidTariffError(result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })));
}

/**
 * Whether `at` (RFC 3339) lies in [start_date_time, end_date_time). docs/design.md: a session prices
 * with the version in force at its start; pricing itself does not check this, so an expired
 * tariff can still re-price an old session.
 */
export function isTariffInForce(tariff: Tariff, at: string): boolean {
  const t = utcMs(at);
  if (tariff.start_date_time !== undefined && t < utcMs(tariff.start_date_time)) return false;
  if (tariff.end_date_time !== undefined && t >= utcMs(tariff.end_date_time)) return false;
  return true;
}
