import { Decimal } from 'decimal.js';
import { cdrCostFields, cdrQuantityFields, type OcpiCdr } from '../../domain/cdr/ocpi.js';
import { cdrSchema, type Cdr } from '../schemas/index.js';

/**
 * A CDR as issued (domain/cdr/ocpi.ts: money and volumes as decimal strings, exact in the event
 * store) to the CDR on the wire (OCPI 2.2.1: JSON numbers). Only the representation changes: a
 * value a JSON number cannot carry exactly is refused, never rounded, so the eMSP is billed the
 * digits our ledger posted.
 */

function wireNumber(value: string, field: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || !new Decimal(number).equals(new Decimal(value))) {
    throw new Error(`${field} = ${value} cannot be sent as a JSON number without changing it`);
  }
  return number;
}

function wirePrice(price: { excl_vat: string; incl_vat?: string | undefined }, field: string) {
  const excl = wireNumber(price.excl_vat, `${field}.excl_vat`);
  return price.incl_vat === undefined ? { excl_vat: excl } : { excl_vat: excl, incl_vat: wireNumber(price.incl_vat, `${field}.incl_vat`) };
}

/** The wire form of an issued CDR, unchecked (see `sendableCdr`). */
export function cdrToWire(cdr: OcpiCdr): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    ...cdr,
    charging_periods: cdr.charging_periods.map((period, i) => ({
      ...period,
      dimensions: period.dimensions.map((dimension, j) => ({ ...dimension, volume: wireNumber(dimension.volume, `charging_periods.${i}.dimensions.${j}.volume`) })),
    })),
  };
  for (const field of cdrCostFields) {
    const price = cdr[field];
    if (price !== undefined) wire[field] = wirePrice(price, field);
  }
  for (const field of cdrQuantityFields) {
    const value = cdr[field];
    if (value !== undefined) wire[field] = wireNumber(value, field);
  }
  return wire;
}

/**
 * The stored CDR (cdr_json of proj_cdrs) as the eMSP gets it, checked against the OCPI 2.2.1 CDR
 * schema. A failure is a bug in how we issue CDRs: it throws (a server error, logged) rather
 * than send a partner a CDR it must refuse.
 */
export function sendableCdr(cdrId: string, cdrJson: string): Cdr {
  const wire = cdrToWire(JSON.parse(cdrJson) as OcpiCdr);
  const parsed = cdrSchema.safeParse(wire);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 10).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`CDR ${cdrId} fails the OCPI 2.2.1 CDR schema: ${problems.join('; ')}`);
}
