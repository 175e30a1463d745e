import { describe, expect, it } from 'vitest';
import { partnerDecider, type PartnerConnection } from '../../domain/partner/index.js';
import { CredentialsTokenIssued, PartnerRegistered, PartnerUnregistered, PartnerUpdated } from '../../domain/partner/events.js';
import { eventFrom } from '../../domain/shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import { given } from '../support/given-when-then.js';

const hash = (digit: string) => digit.repeat(64);
const connection: PartnerConnection = {
  roles: [{ role: 'EMSP', countryCode: 'DE', partyId: 'ABC', businessDetails: { name: 'Test eMSP' } }],
  version: '2.2.1',
  versionsUrl: 'https://emsp.example.com/ocpi/versions',
  endpoints: [{ identifier: 'credentials', role: 'RECEIVER', url: 'https://emsp.example.com/ocpi/2.2.1/credentials' }],
};
const tokenA = eventFrom(CredentialsTokenIssued, { token: 'A', presentedBy: 'partner', tokenHash: hash('a') });
const registered = [
  tokenA,
  eventFrom(PartnerRegistered, { ...connection, roles: [...connection.roles], endpoints: [...connection.endpoints], initiatedBy: 'partner' }),
  eventFrom(CredentialsTokenIssued, { token: 'B', presentedBy: 'us', tokenSealed: 'sealed-b' }),
  eventFrom(CredentialsTokenIssued, { token: 'C', presentedBy: 'partner', tokenHash: hash('c') }),
];
const register = {
  type: 'RegisterPartner',
  initiatedBy: 'partner',
  connection,
  tokenWePresent: { token: 'B', tokenSealed: 'sealed-b' },
  tokenTheyPresent: { token: 'C', tokenHash: hash('c') },
} as const;

describe('partner aggregate (OCPI credentials, spec 7)', () => {
  it('issues token A as a hash', () => {
    given(partnerDecider, []).when({ type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: hash('a') } }).then([tokenA]);
  });

  it('refuses a token that is not a hash', () => {
    given(partnerDecider, []).when({ type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: 'plain-token' } }).thenThrows(InvalidCommandError, /SHA-256/);
  });

  it('registers with token A: connection, our sealed token B, the hash of their new token C', () => {
    given(partnerDecider, [tokenA]).when(register).then(registered.slice(1));
  });

  it('refuses to register without a registration token', () => {
    given(partnerDecider, []).when(register).thenThrows(IllegalStateError, /no registration token/);
  });

  it('refuses a second registration (the gateway answers 405)', () => {
    given(partnerDecider, registered).when(register).thenThrows(IllegalStateError, /already registered/);
  });

  it('refuses roles that repeat role, country_code and party_id', () => {
    given(partnerDecider, [tokenA])
      .when({ ...register, connection: { ...connection, roles: [connection.roles[0]!, connection.roles[0]!] } })
      .thenThrows(InvalidCommandError, /repeat/);
  });

  it('when we registered with them, token B was issued before the POST and is not issued again', () => {
    const tokenB = eventFrom(CredentialsTokenIssued, { token: 'B', presentedBy: 'partner', tokenHash: hash('b') });
    given(partnerDecider, [tokenB])
      .when({ ...register, initiatedBy: 'us', tokenWePresent: { token: 'C', tokenSealed: 'sealed-c' }, tokenTheyPresent: { token: 'B', tokenHash: hash('b') } })
      .thenState((state, events) => {
        expect(events.map((e) => e.type)).toEqual(['PartnerRegistered', 'CredentialsTokenIssued']);
        expect(state).toMatchObject({ status: 'registered', initiatedBy: 'us', tokenHash: hash('b'), tokenSealed: 'sealed-c' });
      });
  });

  it('updates: version/endpoints and a new token C replacing the old one', () => {
    const next = { ...connection, endpoints: [] };
    given(partnerDecider, registered)
      .when({ type: 'UpdatePartner', connection: next, tokenWePresent: { token: 'B', tokenSealed: 'sealed-b2' }, tokenTheyPresent: { token: 'C', tokenHash: hash('d') } })
      .thenState((state, events) => {
        expect(events[0]).toEqual(eventFrom(PartnerUpdated, { ...next, roles: [...next.roles], endpoints: [] }));
        expect(state).toMatchObject({ status: 'registered', tokenHash: hash('d'), tokenSealed: 'sealed-b2' });
      });
  });

  it('refuses update and unregister when not registered (the gateway answers 405)', () => {
    given(partnerDecider, [tokenA]).when({ type: 'UnregisterPartner', initiatedBy: 'partner', reason: 'bye' }).thenThrows(IllegalStateError, /not registered/);
    given(partnerDecider, [tokenA])
      .when({ type: 'UpdatePartner', connection, tokenWePresent: { token: 'B', tokenSealed: 'x' }, tokenTheyPresent: null })
      .thenThrows(IllegalStateError, /not registered/);
  });

  it('unregistering revokes the tokens; a new token A may invite them again', () => {
    given(partnerDecider, registered)
      .when({ type: 'UnregisterPartner', initiatedBy: 'partner', reason: 'DELETE credentials' })
      .then([eventFrom(PartnerUnregistered, { initiatedBy: 'partner', reason: 'DELETE credentials' })]);
    const after = given(partnerDecider, [...registered, eventFrom(PartnerUnregistered, { initiatedBy: 'partner', reason: 'bye' })]);
    expect(after.state.status).toBe('unregistered');
    after.when({ type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: hash('e') } }).thenState((state) => expect(state).toMatchObject({ status: 'pending', tokenHash: hash('e') }));
  });
});
