import { describe, it } from 'vitest';
import {
  activeChargingProfileResultSchema,
  chargingProfileResponseSchema,
  chargingProfileResultSchema,
  chargingProfileSchema,
  clearProfileResultSchema,
  clientInfoSchema,
  credentialsSchema,
  endpointSchema,
  setChargingProfileSchema,
  versionDetailsSchema,
  versionListSchema,
} from '../../ocpi/schemas/index.js';
import { at, expectAccepted, expectRefused, tooLong } from './fixtures.js';

const profile = { start_date_time: at, duration: 3600, charging_rate_unit: 'A', min_charging_rate: 6, charging_profile_period: [{ start_period: 0, limit: 16 }, { start_period: 1800, limit: 8.1 }] };

describe('ChargingProfiles', () => {
  it('ChargingProfile and its periods', () => {
    expectAccepted(chargingProfileSchema, profile);
    expectRefused(chargingProfileSchema, { ...profile, charging_rate_unit: 'kW' }, ['charging_rate_unit']);
    expectRefused(chargingProfileSchema, { ...profile, charging_rate_unit: undefined }, ['charging_rate_unit']);
    expectRefused(chargingProfileSchema, { ...profile, charging_profile_period: [{ start_period: 0, limit: 8.15 }] }, ['charging_profile_period', 0, 'limit']);
    expectRefused(chargingProfileSchema, { ...profile, charging_profile_period: [{ limit: 8 }] }, ['charging_profile_period', 0, 'start_period']);
  });
  it('SetChargingProfile, response and results', () => {
    expectAccepted(setChargingProfileSchema, { charging_profile: profile, response_url: 'https://scsp.example.org/cp/1' });
    expectRefused(setChargingProfileSchema, { charging_profile: profile }, ['response_url']);
    expectAccepted(chargingProfileResponseSchema, { result: 'TOO_OFTEN', timeout: 60 });
    expectRefused(chargingProfileResponseSchema, { result: 'LATER', timeout: 60 }, ['result']);
    expectAccepted(activeChargingProfileResultSchema, { result: 'ACCEPTED', profile: { start_date_time: at, charging_profile: profile } });
    expectRefused(activeChargingProfileResultSchema, { result: 'ACCEPTED', profile: { charging_profile: profile } }, ['profile', 'start_date_time']);
    expectAccepted(chargingProfileResultSchema, { result: 'UNKNOWN' });
    expectRefused(clearProfileResultSchema, { result: 'CLEARED' }, ['result']);
  });
});

describe('HubClientInfo', () => {
  const clientInfo = { party_id: 'ALL', country_code: 'NL', role: 'CPO', status: 'PLANNED', last_updated: at };
  it('ClientInfo', () => {
    expectAccepted(clientInfoSchema, clientInfo);
    expectRefused(clientInfoSchema, { ...clientInfo, status: 'ONLINE' }, ['status']);
    expectRefused(clientInfoSchema, { ...clientInfo, role: 'DRIVER' }, ['role']);
    expectRefused(clientInfoSchema, { ...clientInfo, last_updated: undefined }, ['last_updated']);
  });
});

describe('Versions', () => {
  it('Version list, VersionDetails, Endpoint', () => {
    expectAccepted(versionListSchema, [{ version: '2.2.1', url: 'https://csms.example.org/ocpi/2.2.1' }]);
    expectRefused(versionListSchema, [], []);
    expectRefused(versionListSchema, [{ version: '3.0', url: 'https://x.example.org' }], [0, 'version']);
    const endpoint = { identifier: 'locations', role: 'SENDER', url: 'https://csms.example.org/ocpi/2.2.1/locations' };
    expectAccepted(versionDetailsSchema, { version: '2.2.1', endpoints: [endpoint] });
    expectRefused(versionDetailsSchema, { version: '2.2.1', endpoints: [] }, ['endpoints']);
    expectRefused(endpointSchema, { ...endpoint, identifier: 'location' }, ['identifier']);
    expectRefused(endpointSchema, { ...endpoint, role: 'CPO' }, ['role']);
  });
});

describe('Credentials', () => {
  const role = { role: 'CPO', party_id: 'OCS', country_code: 'NL', business_details: { name: 'Open CSMS' } };
  const credentials = { token: 'ebf3b399-779f-4497-9b9d-ac6ad3cc44d2', url: 'https://csms.example.org/ocpi/versions', roles: [role] };
  it('accepts Credentials and refuses malformed ones', () => {
    expectAccepted(credentialsSchema, credentials);
    expectRefused(credentialsSchema, { ...credentials, token: tooLong(64) }, ['token']);
    expectRefused(credentialsSchema, { ...credentials, token: 'tøken' }, ['token']);
    expectRefused(credentialsSchema, { ...credentials, roles: [] }, ['roles']);
    expectRefused(credentialsSchema, { ...credentials, roles: [{ ...role, role: 'OPERATOR' }] }, ['roles', 0, 'role']);
    expectRefused(credentialsSchema, { ...credentials, roles: [{ ...role, business_details: undefined }] }, ['roles', 0, 'business_details']);
  });
  it('refuses the same role, party and country twice (CiString: case does not matter)', () => {
    expectRefused(credentialsSchema, { ...credentials, roles: [role, { ...role, party_id: 'ocs' }] }, ['roles', 1]);
    expectAccepted(credentialsSchema, { ...credentials, roles: [role, { ...role, role: 'EMSP' }] });
  });
});
