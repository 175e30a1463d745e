import { describe, it } from 'vitest';
import {
  authorizationInfoSchema,
  cancelReservationSchema,
  commandRequestSchemas,
  commandResponseSchema,
  commandResultSchema,
  commandTypeSchema,
  energyContractSchema,
  locationReferencesSchema,
  reserveNowSchema,
  startSessionSchema,
  stopSessionSchema,
  tokenPatchSchema,
  tokenSchema,
  unlockConnectorSchema,
} from '../../ocpi/schemas/index.js';
import { at, expectAccepted, expectRefused, token, tooLong, withField } from './fixtures.js';

const responseUrl = 'https://emsp.example.org/ocpi/2.2.1/commands/START_SESSION/42';

describe('Token', () => {
  it('accepts a whole Token', () => expectAccepted(tokenSchema, { ...token, energy_contract: { supplier_name: 'Green Power', contract_id: 'GP-1' } }));
  it.each([
    [['uid'], tooLong(36)],
    [['contract_id'], tooLong(36)],
    [['visual_number'], tooLong(64)],
    [['issuer'], tooLong(64)],
    [['group_id'], tooLong(36)],
    [['type'], 'NFC'],
    [['whitelist'], 'SOMETIMES'],
    [['default_profile_type'], 'SLOW'],
    [['language'], 'nld'],
  ])('refuses %j', (path, value) => expectRefused(tokenSchema, withField(token, path, value), path));
  it.each([['country_code'], ['party_id'], ['uid'], ['type'], ['contract_id'], ['issuer'], ['valid'], ['whitelist'], ['last_updated']])(
    'refuses a Token without %s',
    (field) => expectRefused(tokenSchema, withField(token, [field], undefined), [field]),
  );
  it('PATCH needs last_updated', () => {
    expectAccepted(tokenPatchSchema, { valid: false, last_updated: at });
    expectRefused(tokenPatchSchema, { valid: false }, ['last_updated']);
  });
  it('EnergyContract, LocationReferences, AuthorizationInfo', () => {
    expectRefused(energyContractSchema, { contract_id: 'x' }, ['supplier_name']);
    expectAccepted(locationReferencesSchema, { location_id: 'LOC-1', evse_uids: ['EVSE-1'] });
    expectRefused(locationReferencesSchema, { location_id: tooLong(36) }, ['location_id']);
    expectAccepted(authorizationInfoSchema, { allowed: 'ALLOWED', token, location: { location_id: 'LOC-1' }, authorization_reference: 'AUTH-1', info: { language: 'en', text: 'Welcome' } });
    expectRefused(authorizationInfoSchema, { allowed: 'MAYBE', token }, ['allowed']);
    expectRefused(authorizationInfoSchema, { allowed: 'ALLOWED' }, ['token']);
  });
});

describe('Commands', () => {
  it('each command type has its request schema', () => {
    for (const type of commandTypeSchema.options) expectAccepted(commandTypeSchema, type);
    expectRefused(commandTypeSchema, 'REBOOT', []);
    expectAccepted(commandRequestSchemas.STOP_SESSION, { response_url: responseUrl, session_id: 'S-1' });
  });
  it('StartSession, with the 2.2.1 connector_id needing an evse_uid', () => {
    const start = { response_url: responseUrl, token, location_id: 'LOC-1', evse_uid: 'EVSE-1', connector_id: '1', authorization_reference: 'AUTH-1' };
    expectAccepted(startSessionSchema, start);
    expectRefused(startSessionSchema, { ...start, evse_uid: undefined }, ['evse_uid']);
    expectRefused(startSessionSchema, { ...start, location_id: tooLong(36) }, ['location_id']);
    expectRefused(startSessionSchema, { ...start, response_url: undefined }, ['response_url']);
    expectRefused(startSessionSchema, { ...start, token: undefined }, ['token']);
  });
  it('ReserveNow, CancelReservation, StopSession, UnlockConnector', () => {
    const reserve = { response_url: responseUrl, token, expiry_date: at, reservation_id: 'R-1', location_id: 'LOC-1' };
    expectAccepted(reserveNowSchema, reserve);
    expectRefused(reserveNowSchema, { ...reserve, expiry_date: undefined }, ['expiry_date']);
    expectRefused(reserveNowSchema, { ...reserve, reservation_id: tooLong(36) }, ['reservation_id']);
    expectAccepted(cancelReservationSchema, { response_url: responseUrl, reservation_id: 'R-1' });
    expectRefused(cancelReservationSchema, { response_url: responseUrl }, ['reservation_id']);
    expectRefused(stopSessionSchema, { response_url: 'mailto:x@example.org', session_id: 'S-1' }, ['response_url']);
    const unlock = { response_url: responseUrl, location_id: 'LOC-1', evse_uid: 'EVSE-1', connector_id: '1' };
    expectAccepted(unlockConnectorSchema, unlock);
    expectRefused(unlockConnectorSchema, { ...unlock, connector_id: undefined }, ['connector_id']);
  });
  it('CommandResponse (with timeout) and CommandResult', () => {
    expectAccepted(commandResponseSchema, { result: 'ACCEPTED', timeout: 30, message: [{ language: 'en', text: 'Sent' }] });
    expectRefused(commandResponseSchema, { result: 'ACCEPTED' }, ['timeout']);
    expectRefused(commandResponseSchema, { result: 'TIMEOUT', timeout: 30 }, ['result']);
    expectRefused(commandResponseSchema, { result: 'ACCEPTED', timeout: 1.5 }, ['timeout']);
    expectAccepted(commandResultSchema, { result: 'CANCELED_RESERVATION' });
    expectRefused(commandResultSchema, { result: 'UNKNOWN_SESSION' }, ['result']);
  });
});
