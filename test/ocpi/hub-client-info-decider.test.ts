import { describe, it } from 'vitest';
import { ClientInfoReported, CredentialsTokenIssued, PartnerRegistered, type PartnerRole } from '../../domain/partner/events.js';
import { partnerDecider, type ReportClientInfo } from '../../domain/partner/index.js';
import { eventFrom } from '../../domain/shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import { given } from '../support/given-when-then.js';

/** ReportClientInfo on the partner aggregate: the OCPI hubclientinfo PUT (mod_hub_client_info). */

const registeredAs = (role: PartnerRole['role']) => [
  eventFrom(CredentialsTokenIssued, { token: 'A', presentedBy: 'partner', tokenHash: 'a'.repeat(64) }),
  eventFrom(PartnerRegistered, {
    roles: [{ role, countryCode: 'NL', partyId: 'HUB', businessDetails: { name: 'A hub' } }],
    version: '2.2.1',
    versionsUrl: 'https://hub.example.com/ocpi/versions',
    endpoints: [],
    initiatedBy: 'partner',
  }),
];
const report = (overrides: Partial<ReportClientInfo> = {}): ReportClientInfo => ({
  type: 'ReportClientInfo', countryCode: 'de', partyId: 'emp', role: 'EMSP', status: 'CONNECTED', lastUpdated: '2026-11-28T12:00:00+01:00', ...overrides,
});
const reported = (countryCode: string, partyId: string) =>
  eventFrom(ClientInfoReported, { countryCode, partyId, role: 'EMSP', status: 'CONNECTED', lastUpdated: '2026-11-28T11:00:00.000Z' });

describe('partner aggregate: client info reported by a hub', () => {
  it('records what a HUB reports, party ids upper case and the time in UTC', () => {
    given(partnerDecider, registeredAs('HUB')).when(report()).then([reported('DE', 'EMP')]);
  });

  it('refuses a partner without the HUB role (the data owner is the hub)', () => {
    given(partnerDecider, registeredAs('EMSP')).when(report()).thenThrows(IllegalStateError, /HUB role/);
  });

  it('refuses an unregistered partner', () => {
    given(partnerDecider, []).when(report()).thenThrows(IllegalStateError, /not registered/);
  });

  it('refuses a malformed party, status or time', () => {
    const hub = given(partnerDecider, registeredAs('HUB'));
    hub.when(report({ partyId: 'TOOLONG' })).thenThrows(InvalidCommandError, /party id/);
    hub.when(report({ status: 'ASLEEP' as never })).thenThrows(InvalidCommandError, /connection status/);
    hub.when(report({ lastUpdated: 'yesterday' })).thenThrows(InvalidCommandError, /lastUpdated/);
  });
});
