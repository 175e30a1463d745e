import { Decimal } from 'decimal.js';
import type { MeterReadingInput } from '../../../domain/transaction/commands.js';
import { sampledValuesPerReadingMax, type SampledValue } from '../../../domain/transaction/events.js';

/**
 * Meter values of both versions as domain readings: every sampled value kept with its measurand,
 * phase, unit, context and location; the energy register (Energy.Active.Import.Register without a
 * phase: the total) in Wh; signed data kept verbatim, never parsed, so its signature still verifies.
 */

export const energyRegisterMeasurand = 'Energy.Active.Import.Register';
/** The domain keeps a sampled value up to 100 characters; a longer one (vendor blobs) is cut, marked by this suffix. */
const sampledValueCharsMax = 100;

/** OCPP 1.6 SampledValue (§7.43): value is a string; unit Wh by default; no multiplier. */
export interface Ocpp16SampledValue {
  readonly value: string;
  readonly context?: string;
  readonly format?: 'Raw' | 'SignedData';
  readonly measurand?: string;
  readonly phase?: string;
  readonly location?: string;
  readonly unit?: string;
}
export interface Ocpp16MeterValue {
  readonly timestamp: string;
  readonly sampledValue: readonly Ocpp16SampledValue[];
}

/** OCPP 2.0.1 SampledValueType: value is a number; unitOfMeasure.multiplier a power of ten. */
export interface Ocpp201SampledValue {
  readonly value: number;
  readonly context?: string;
  readonly measurand?: string;
  readonly phase?: string;
  readonly location?: string;
  readonly signedMeterValue?: Record<string, unknown>;
  readonly unitOfMeasure?: { readonly unit?: string; readonly multiplier?: number };
}
export interface Ocpp201MeterValue {
  readonly timestamp: string;
  readonly sampledValue: readonly Ocpp201SampledValue[];
}

interface Normalized {
  readonly sampled: SampledValue;
  readonly registerWh: Decimal | null;
  readonly signedData: unknown;
}

/**
 * The largest energy register we read as one: 10 TWh, some 160 times what a 350 kW charger delivers
 * in 20 years nonstop. The bound is about cost, not plausibility: a register is stored as
 * `Decimal.toFixed()`, and a 1.6 value of "1e100000000" (11 characters) spelled out took 34 s of one
 * core (the whole server stalled) and 100 MB; "1e1000000000" cannot be spelled out at all.
 */
export const energyRegisterWhMax = new Decimal('1e13');
/** Digits kept after the point (1 nWh): rounds the tail of a float, and "1e-100000000" to 0, for the same reason. */
export const energyRegisterDecimalPlacesMax = 9;

/** Wh from a value in Wh or kWh with a power-of-ten multiplier; null when it is not a usable register. */
export function energyWh(value: string | number, unit: string | undefined, multiplier = 0): Decimal | null {
  let wh: Decimal;
  try {
    wh = new Decimal(value);
  } catch {
    return null;
  }
  const normalizedUnit = (unit ?? 'Wh').toLowerCase();
  if (normalizedUnit === 'kwh') wh = wh.times(1000);
  else if (normalizedUnit !== 'wh') return null;
  wh = wh.times(new Decimal(10).pow(multiplier));
  if (!wh.isFinite() || wh.isNegative() || wh.gt(energyRegisterWhMax)) return null;
  return wh.toDecimalPlaces(energyRegisterDecimalPlacesMax);
}

function isTotalImportRegister(measurand: string | undefined, phase: string | undefined): boolean {
  return (measurand ?? energyRegisterMeasurand) === energyRegisterMeasurand && phase === undefined;
}

function sampled(value: string, fields: { context?: string; measurand?: string; phase?: string; location?: string; unit?: string | null; multiplier?: number | null }): SampledValue {
  return {
    value: value.length <= sampledValueCharsMax ? value : `${value.slice(0, sampledValueCharsMax - 1)}…`,
    measurand: fields.measurand ?? energyRegisterMeasurand,
    phase: fields.phase ?? null,
    unit: fields.unit ?? null,
    multiplier: fields.multiplier ?? null,
    context: fields.context ?? null,
    location: fields.location ?? null,
  };
}

function normalize16(value: Ocpp16SampledValue): Normalized {
  if (value.format === 'SignedData') {
    // The signed blob (e.g. OCMF) is the value itself: keep it whole as signed data only.
    return { sampled: sampled('(signed)', { ...value, unit: value.unit ?? null }), registerWh: null, signedData: value.value };
  }
  const registerWh = isTotalImportRegister(value.measurand, value.phase) ? energyWh(value.value, value.unit) : null;
  return { sampled: sampled(value.value, { ...value, unit: value.unit ?? null }), registerWh, signedData: null };
}

function normalize201(value: Ocpp201SampledValue): Normalized {
  const unit = value.unitOfMeasure?.unit;
  const multiplier = value.unitOfMeasure?.multiplier;
  const registerWh = isTotalImportRegister(value.measurand, value.phase) ? energyWh(value.value, unit, multiplier ?? 0) : null;
  return {
    sampled: sampled(String(value.value), { ...value, unit: unit ?? null, multiplier: multiplier ?? null }),
    registerWh,
    signedData: value.signedMeterValue ?? null,
  };
}

/**
 * One station meter value as readings. Usually one; a meter value with more sampled values than a
 * reading holds (`sampledValuesPerReadingMax`) is split, the register and signed data going with the first.
 */
function toReadings(timestamp: string, values: readonly Normalized[]): MeterReadingInput[] {
  const register = values.find((value) => value.registerWh !== null)?.registerWh ?? null;
  const signed = values.map((value) => value.signedData).filter((data) => data !== null && data !== undefined);
  const signedData = signed.length === 0 ? null : signed.length === 1 ? signed[0] : signed;
  const readings: MeterReadingInput[] = [];
  for (let start = 0; start < values.length; start += sampledValuesPerReadingMax) {
    const chunk = values.slice(start, start + sampledValuesPerReadingMax).map((value) => value.sampled);
    readings.push(
      start === 0 ? { sampledAt: timestamp, registerWh: register, sampledValues: chunk, signedData } : { sampledAt: timestamp, sampledValues: chunk },
    );
  }
  return readings;
}

export function readingsFrom16(meterValues: readonly Ocpp16MeterValue[] | undefined): MeterReadingInput[] {
  return (meterValues ?? []).flatMap((meterValue) => toReadings(meterValue.timestamp, meterValue.sampledValue.map(normalize16)));
}

export function readingsFrom201(meterValues: readonly Ocpp201MeterValue[] | undefined): MeterReadingInput[] {
  return (meterValues ?? []).flatMap((meterValue) => toReadings(meterValue.timestamp, meterValue.sampledValue.map(normalize201)));
}

/** The register of the reading with the given context (e.g. Transaction.End), for meterStop when the station sent none. */
export function registerWithContext201(meterValues: readonly Ocpp201MeterValue[] | undefined, context: string): Decimal | null {
  for (const meterValue of meterValues ?? []) {
    for (const value of meterValue.sampledValue) {
      if (value.context === context) {
        const normalized = normalize201(value);
        if (normalized.registerWh !== null) return normalized.registerWh;
      }
    }
  }
  return null;
}
