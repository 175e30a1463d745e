import { describe, it } from 'vitest';
import {
  cdrDimensionSchema,
  cdrSchema,
  chargingPreferencesResponseSchema,
  chargingPreferencesSchema,
  sessionPatchSchema,
  sessionSchema,
  tariffSchema,
} from '../../ocpi/schemas/index.js';
import { at, cdr, expectAccepted, expectRefused, session, tariff, tooLong, withField } from './fixtures.js';

describe('Session', () => {
  it('accepts a whole Session', () => expectAccepted(sessionSchema, session));
  it.each([
    [['id'], tooLong(36)],
    [['location_id'], tooLong(36)],
    [['meter_id'], tooLong(255)],
    [['cdr_token', 'uid'], tooLong(36)],
    [['status'], 'STARTED'],
    [['auth_method'], 'APP'],
    [['cdr_token', 'type'], 'CARD'],
    [['charging_periods', 0, 'dimensions', 0, 'type'], 'VOLTAGE'],
    [['charging_periods', 0, 'dimensions'], []],
    [['kwh'], 12.34567],
    [['currency'], 'EURO'],
  ])('refuses %j', (path, value) => expectRefused(sessionSchema, withField(session, path, value), path));
  it.each([['country_code'], ['party_id'], ['id'], ['start_date_time'], ['kwh'], ['cdr_token'], ['auth_method'], ['location_id'], ['evse_uid'], ['connector_id'], ['currency'], ['status'], ['last_updated']])(
    'refuses a Session without %s',
    (field) => expectRefused(sessionSchema, withField(session, [field], undefined), [field]),
  );
  it('refuses a CdrToken without the country_code and party_id that 2.2.1 requires', () => {
    expectRefused(sessionSchema, withField(session, ['cdr_token', 'party_id'], undefined), ['cdr_token', 'party_id']);
  });
  it('PATCH: any subset, last_updated required', () => {
    expectAccepted(sessionPatchSchema, { kwh: 13, last_updated: at });
    expectRefused(sessionPatchSchema, { kwh: 13 }, ['last_updated']);
  });
  it('ChargingPreferences and its response', () => {
    expectAccepted(chargingPreferencesSchema, { profile_type: 'FAST', departure_time: at, energy_need: 30, discharge_allowed: false });
    expectRefused(chargingPreferencesSchema, { departure_time: at }, ['profile_type']);
    expectRefused(chargingPreferencesSchema, { profile_type: 'SLOW' }, ['profile_type']);
    expectAccepted(chargingPreferencesResponseSchema, 'DEPARTURE_REQUIRED');
    expectRefused(chargingPreferencesResponseSchema, 'NOT_SUPPORTED', []);
  });
});

describe('CDR', () => {
  it('accepts a whole CDR with an embedded Tariff', () => expectAccepted(cdrSchema, cdr));
  it.each([
    [['id'], tooLong(39)],
    [['session_id'], tooLong(36)],
    [['remark'], tooLong(255)],
    [['invoice_reference_id'], tooLong(39)],
    [['cdr_location', 'address'], tooLong(45)],
    [['cdr_location', 'evse_id'], tooLong(48)],
    [['cdr_location', 'connector_standard'], 'SCHUKO'],
    [['auth_method'], 'PIN'],
    [['end_date_time'], '2024-03-01T11:00:00+01:00'],
    [['total_cost', 'excl_vat'], '5.00'],
  ])('refuses %j', (path, value) => expectRefused(cdrSchema, withField(cdr, path, value), path));
  it.each([['country_code'], ['party_id'], ['id'], ['start_date_time'], ['end_date_time'], ['cdr_token'], ['auth_method'], ['cdr_location'], ['currency'], ['charging_periods'], ['total_cost'], ['total_energy'], ['total_time'], ['last_updated']])(
    'refuses a CDR without %s',
    (field) => expectRefused(cdrSchema, withField(cdr, [field], undefined), [field]),
  );
  it('a Credit CDR carries negative totals and must name the CDR it credits', () => {
    const credit = { ...cdr, id: 'CDR-1-C', credit: true, credit_reference_id: 'CDR-1', total_cost: { excl_vat: -5, incl_vat: -6.05 } };
    expectAccepted(cdrSchema, credit);
    expectRefused(cdrSchema, { ...credit, credit_reference_id: undefined }, ['credit_reference_id']);
  });
  it('CdrDimension volumes may be negative (energy fed back to the grid)', () => {
    expectAccepted(cdrDimensionSchema, { type: 'MIN_POWER', volume: -3.5 });
    expectRefused(cdrDimensionSchema, { type: 'FLAT', volume: 1 }, ['type']);
  });
});

describe('Tariff (re-exported from domain/tariff/schema.ts)', () => {
  it('accepts a whole Tariff', () => expectAccepted(tariffSchema, tariff));
  it.each([
    [['id'], tooLong(36)],
    [['type'], 'PROFILE_SLOW'],
    [['elements', 0, 'price_components', 0, 'type'], 'KWH'],
    [['tariff_alt_url'], 'not a url'],
  ])('refuses %j', (path, value) => expectRefused(tariffSchema, withField(tariff, path, value), path));
  it.each([['country_code'], ['party_id'], ['id'], ['currency'], ['elements'], ['last_updated']])('refuses a Tariff without %s', (field) =>
    expectRefused(tariffSchema, withField(tariff, [field], undefined), [field]),
  );
});
