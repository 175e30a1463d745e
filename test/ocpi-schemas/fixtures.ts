import { expect } from 'vitest';
import type { z } from 'zod';

/** Valid objects written for these tests (not the spec's examples), one per OCPI class. */
export const at = '2024-03-01T10:00:00Z';

export const connector = {
  id: '1',
  standard: 'IEC_62196_T2',
  format: 'SOCKET',
  power_type: 'AC_3_PHASE',
  max_voltage: 230,
  max_amperage: 32,
  max_electric_power: 22_000,
  tariff_ids: ['T-1'],
  last_updated: at,
};

export const evse = {
  uid: 'EVSE-1',
  evse_id: 'NL*OCS*E1',
  status: 'AVAILABLE',
  capabilities: ['RFID_READER', 'START_SESSION_CONNECTOR_REQUIRED'],
  connectors: [connector],
  floor_level: '-1',
  physical_reference: 'A1',
  last_updated: at,
};

export const location = {
  country_code: 'NL',
  party_id: 'OCS',
  id: 'LOC-1',
  publish: true,
  name: 'Station Square',
  address: 'Stationsplein 1',
  city: 'Utrecht',
  postal_code: '3511 ED',
  country: 'NLD',
  coordinates: { latitude: '52.089444', longitude: '5.110278' },
  parking_type: 'ON_STREET',
  evses: [evse],
  operator: { name: 'Open CSMS', website: 'https://example.org' },
  facilities: ['TRAIN_STATION'],
  time_zone: 'Europe/Amsterdam',
  opening_times: { twentyfourseven: true },
  energy_mix: { is_green_energy: true },
  last_updated: at,
};

export const cdrToken = { country_code: 'NL', party_id: 'MSP', uid: 'RFID-1', type: 'RFID', contract_id: 'NL-MSP-C12345-6' };

export const session = {
  country_code: 'NL',
  party_id: 'OCS',
  id: 'S-1',
  start_date_time: at,
  kwh: 12.5,
  cdr_token: cdrToken,
  auth_method: 'WHITELIST',
  location_id: 'LOC-1',
  evse_uid: 'EVSE-1',
  connector_id: '1',
  currency: 'EUR',
  charging_periods: [{ start_date_time: at, dimensions: [{ type: 'ENERGY', volume: 12.5 }] }],
  total_cost: { excl_vat: 3.125, incl_vat: 3.7813 },
  status: 'ACTIVE',
  last_updated: at,
};

export const token = {
  country_code: 'NL',
  party_id: 'MSP',
  uid: 'RFID-1',
  type: 'RFID',
  contract_id: 'NL-MSP-C12345-6',
  issuer: 'Example eMSP',
  valid: true,
  whitelist: 'ALLOWED',
  default_profile_type: 'GREEN',
  last_updated: at,
};

export const tariff = {
  country_code: 'NL',
  party_id: 'OCS',
  id: 'T-1',
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 }] }],
  last_updated: at,
};

export const cdr = {
  country_code: 'NL',
  party_id: 'OCS',
  id: 'CDR-1',
  start_date_time: '2024-03-01T08:00:00Z',
  end_date_time: at,
  session_id: 'S-1',
  cdr_token: cdrToken,
  auth_method: 'AUTH_REQUEST',
  cdr_location: {
    id: 'LOC-1',
    address: 'Stationsplein 1',
    city: 'Utrecht',
    country: 'NLD',
    coordinates: { latitude: '52.089444', longitude: '5.110278' },
    evse_uid: 'EVSE-1',
    evse_id: 'NL*OCS*E1',
    connector_id: '1',
    connector_standard: 'IEC_62196_T2',
    connector_format: 'SOCKET',
    connector_power_type: 'AC_3_PHASE',
  },
  currency: 'EUR',
  tariffs: [tariff],
  charging_periods: [{ start_date_time: '2024-03-01T08:00:00Z', dimensions: [{ type: 'ENERGY', volume: 20 }], tariff_id: 'T-1' }],
  total_cost: { excl_vat: 5, incl_vat: 6.05 },
  total_energy: 20,
  total_time: 2,
  home_charging_compensation: false,
  last_updated: at,
};

/** A copy of `value` with `path` set to `replacement` (or removed when it is `undefined`). */
export function withField<T>(value: T, path: (string | number)[], replacement: unknown): T {
  const copy = structuredClone(value) as any;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key];
  const last = path[path.length - 1]!;
  if (replacement === undefined) delete target[last];
  else target[last] = replacement;
  return copy;
}

export function expectAccepted(schema: z.ZodType, value: unknown): void {
  const result = schema.safeParse(value);
  expect(result.success ? [] : result.error.issues).toEqual([]);
}

/** Refused, and refused for the field in question (not for some other slip in the fixture). */
export function expectRefused(schema: z.ZodType, value: unknown, path: (string | number)[]): void {
  const result = schema.safeParse(value);
  expect(result.success).toBe(false);
  if (!result.success) expect(result.error.issues.map((issue) => issue.path.join('.'))).toContain(path.join('.'));
}

export const tooLong = (length: number): string => 'x'.repeat(length + 1);
