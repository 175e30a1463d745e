import { describe, expect, it } from 'vitest';
import {
  additionalGeoLocationSchema,
  businessDetailsSchema,
  capabilities,
  connectorPatchSchema,
  connectorSchema,
  connectorTypes,
  energyMixSchema,
  evsePatchSchema,
  evseSchema,
  facilities,
  hoursSchema,
  imageSchema,
  locationPatchSchema,
  locationSchema,
  ocpiSchemaLimits,
  publishTokenTypeSchema,
  statusScheduleSchema,
} from '../../ocpi/schemas/index.js';
import { at, connector, evse, expectAccepted, expectRefused, location, tooLong, withField } from './fixtures.js';

describe('Location', () => {
  it('accepts a whole Location', () => expectAccepted(locationSchema, location));

  it.each([
    [['id'], tooLong(36)],
    [['name'], tooLong(255)],
    [['address'], tooLong(45)],
    [['city'], tooLong(45)],
    [['postal_code'], tooLong(10)],
    [['state'], tooLong(20)],
    [['party_id'], 'OCSX'],
    [['country_code'], 'NLD'],
    [['country'], 'NL'],
  ])('refuses %j too long or malformed', (path, value) => expectRefused(locationSchema, withField(location, path, value), path));

  it.each([['country_code'], ['party_id'], ['id'], ['publish'], ['address'], ['city'], ['country'], ['coordinates'], ['time_zone'], ['last_updated']])(
    'refuses a Location without %s',
    (field) => expectRefused(locationSchema, withField(location, [field], undefined), [field]),
  );

  it.each([
    [['parking_type'], 'UNKNOWN'],
    [['facilities'], ['BEACH']],
    [['time_zone'], 'Europe/Atlantis'],
    [['coordinates', 'latitude'], '52.0894'],
    [['coordinates', 'longitude'], '5.11027812'],
  ])('refuses %j outside its enum or format', (path, value) => {
    const refusedAt = Array.isArray(value) ? [...path, 0] : path;
    expectRefused(locationSchema, withField(location, path, value), refusedAt);
  });

  it('refuses publish_allowed_to on a published Location', () => {
    const hidden = { ...location, publish: false, publish_allowed_to: [{ group_id: 'EMPLOYEES' }] };
    expectAccepted(locationSchema, hidden);
    expectRefused(locationSchema, { ...hidden, publish: true }, ['publish_allowed_to']);
  });

  it('bounds its EVSE list', () => {
    const evses = Array.from({ length: ocpiSchemaLimits.evsesPerLocationMax + 1 }, () => evse);
    expectRefused(locationSchema, { ...location, evses }, ['evses']);
  });

  it('PATCH: any subset, but last_updated is required', () => {
    expectAccepted(locationPatchSchema, { name: 'Renamed', last_updated: at });
    expectRefused(locationPatchSchema, { name: 'Renamed' }, ['last_updated']);
    expectRefused(locationPatchSchema, { name: tooLong(255), last_updated: at }, ['name']);
  });
});

describe('EVSE', () => {
  it('accepts a whole EVSE', () => expectAccepted(evseSchema, evse));
  it.each([
    [['uid'], tooLong(36)],
    [['evse_id'], tooLong(48)],
    [['floor_level'], tooLong(4)],
    [['physical_reference'], tooLong(16)],
    [['status'], 'FREE'],
    [['capabilities', 0], 'TELEPORT'],
    [['parking_restrictions'], ['TRUCKS']],
  ])('refuses %j', (path, value) => {
    const refusedAt = Array.isArray(value) ? [...path, 0] : path;
    expectRefused(evseSchema, withField(evse, path, value), refusedAt);
  });
  it.each([['uid'], ['status'], ['connectors'], ['last_updated']])('refuses an EVSE without %s', (field) =>
    expectRefused(evseSchema, withField(evse, [field], undefined), [field]),
  );
  it('needs at least one connector', () => expectRefused(evseSchema, { ...evse, connectors: [] }, ['connectors']));
  it('knows the 2.2.1 capability START_SESSION_CONNECTOR_REQUIRED', () => expect(capabilities).toContain('START_SESSION_CONNECTOR_REQUIRED'));
  it('PATCH needs last_updated', () => {
    expectAccepted(evsePatchSchema, { status: 'CHARGING', last_updated: at });
    expectRefused(evsePatchSchema, { status: 'CHARGING' }, ['last_updated']);
    expectRefused(evsePatchSchema, { status: 'BUSY', last_updated: at }, ['status']);
  });
});

describe('Connector', () => {
  it('accepts a whole Connector', () => expectAccepted(connectorSchema, connector));
  it.each([
    [['id'], tooLong(36)],
    [['standard'], 'TYPE_2'],
    [['format'], 'PLUG'],
    [['power_type'], 'AC'],
    [['max_voltage'], 230.5],
    [['tariff_ids', 0], tooLong(36)],
    [['terms_and_conditions'], 'not a url'],
  ])('refuses %j', (path, value) => expectRefused(connectorSchema, withField(connector, path, value), path));
  it.each([['id'], ['standard'], ['format'], ['power_type'], ['max_voltage'], ['max_amperage'], ['last_updated']])(
    'refuses a Connector without %s',
    (field) => expectRefused(connectorSchema, withField(connector, [field], undefined), [field]),
  );
  it('knows the connector types and power types added in 2.2.1', () => {
    expect(connectorTypes).toEqual(expect.arrayContaining(['CHAOJI', 'GBT_AC', 'NEMA_14_50', 'DOMESTIC_O']));
    expectAccepted(connectorSchema, { ...connector, power_type: 'AC_2_PHASE_SPLIT' });
  });
  it('PATCH needs last_updated', () => {
    expectAccepted(connectorPatchSchema, { tariff_ids: ['15'], last_updated: at });
    expectRefused(connectorPatchSchema, { tariff_ids: ['15'] }, ['last_updated']);
  });
});

describe('Location classes', () => {
  it('Hours: twentyfourseven always; regular_hours only, and then at least once, when not 24/7', () => {
    const weekday = { weekday: 1, period_begin: '08:00', period_end: '20:00' };
    expectAccepted(hoursSchema, { twentyfourseven: false, regular_hours: [weekday] });
    expectRefused(hoursSchema, { regular_hours: [weekday] }, ['twentyfourseven']);
    expectRefused(hoursSchema, { twentyfourseven: false }, ['regular_hours']);
    expectRefused(hoursSchema, { twentyfourseven: true, regular_hours: [weekday] }, ['regular_hours']);
    expectRefused(hoursSchema, { twentyfourseven: false, regular_hours: [{ ...weekday, weekday: 8 }] }, ['regular_hours', 0, 'weekday']);
    expectRefused(hoursSchema, { twentyfourseven: false, regular_hours: [{ ...weekday, period_begin: '8:00' }] }, ['regular_hours', 0, 'period_begin']);
    expectRefused(hoursSchema, { twentyfourseven: false, regular_hours: [{ ...weekday, period_end: '07:00' }] }, ['regular_hours', 0, 'period_end']);
    expectAccepted(hoursSchema, { twentyfourseven: true, exceptional_closings: [{ period_begin: at, period_end: at }] });
    expectRefused(hoursSchema, { twentyfourseven: true, exceptional_openings: [{ period_begin: at }] }, ['exceptional_openings', 0, 'period_end']);
  });

  it('PublishTokenType: one identifying field; uid needs type; visual_number needs issuer', () => {
    expectAccepted(publishTokenTypeSchema, { uid: '123', type: 'RFID' });
    expectAccepted(publishTokenTypeSchema, { visual_number: 'NL-1', issuer: 'eMSP' });
    expectRefused(publishTokenTypeSchema, {}, []);
    expectRefused(publishTokenTypeSchema, { uid: '123' }, ['type']);
    expectRefused(publishTokenTypeSchema, { visual_number: 'NL-1' }, ['issuer']);
    expectRefused(publishTokenTypeSchema, { uid: '123', type: 'BADGE' }, ['type']);
    expectRefused(publishTokenTypeSchema, { group_id: tooLong(36) }, ['group_id']);
  });

  it('Image, BusinessDetails, AdditionalGeoLocation, StatusSchedule, EnergyMix', () => {
    const image = { url: 'https://example.org/a.png', category: 'CHARGER', type: 'png', width: 800, height: 600 };
    expectAccepted(imageSchema, image);
    expectRefused(imageSchema, { ...image, type: 'jpeg2' }, ['type']);
    expectRefused(imageSchema, { ...image, category: 'PHOTO' }, ['category']);
    expectRefused(imageSchema, { ...image, width: 100_000 }, ['width']);
    expectRefused(imageSchema, { ...image, url: undefined }, ['url']);
    expectAccepted(businessDetailsSchema, { name: 'Open CSMS', logo: image });
    expectRefused(businessDetailsSchema, { name: tooLong(100) }, ['name']);
    expectAccepted(additionalGeoLocationSchema, { latitude: '-51.12345', longitude: '179.1234567', name: { language: 'en', text: 'Exit' } });
    expectRefused(additionalGeoLocationSchema, { latitude: '510.12345', longitude: '3.12345' }, ['latitude']);
    expectAccepted(statusScheduleSchema, { period_begin: at, status: 'PLANNED' });
    expectRefused(statusScheduleSchema, { period_begin: at, status: 'SOON' }, ['status']);
    expectAccepted(energyMixSchema, { is_green_energy: false, energy_sources: [{ source: 'WIND', percentage: 40 }], environ_impact: [{ category: 'CARBON_DIOXIDE', amount: 372 }] });
    expectRefused(energyMixSchema, { is_green_energy: true, supplier_name: tooLong(64) }, ['supplier_name']);
    expectRefused(energyMixSchema, { is_green_energy: true, energy_sources: [{ source: 'OIL', percentage: 1 }] }, ['energy_sources', 0, 'source']);
  });

  it('Facility enum has the 20 values of 2.2.1', () => expect(facilities).toHaveLength(20));
});
