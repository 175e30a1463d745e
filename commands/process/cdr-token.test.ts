import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.js';
import { ocpiSettingsDefault, ourParty } from '../../ocpi/plugin.js';
import { billingConfigDefault, billingConfigFor } from './billing-config.js';
import { cdrTokenOf, type TokenFacts } from './cdr-builder.js';

/**
 * Issue 10, points 2 and 3: a CDR's token names the token's own party, and our CPO party is one
 * setting. Integration: test/integration/billing-parties.test.ts; through `csms serve`:
 * test/e2e/billing.test.ts.
 */

const card = { idToken: 'TAG001', type: 'ISO14443' };
const ownCard: TokenFacts = { contractId: 'TAG001', tokenType: 'RFID', party: null };

describe('cdrTokenOf', () => {
  it('an own token TAG001 is ours (NL/CSM by default), not TA/G00 read into its uid', () => {
    expect(cdrTokenOf(card, ownCard, billingConfigDefault)).toEqual({ country_code: 'NL', party_id: 'CSM', uid: 'TAG001', type: 'RFID', contract_id: 'TAG001' });
  });

  it("an eMSP's token names the eMSP that pushed it, even when its uid and contract id look like another party's eMAID", () => {
    const pushed: TokenFacts = { contractId: 'NL-ABC-C12345678-X', tokenType: 'RFID', party: { countryCode: 'DE', partyId: 'EMP' } };
    expect(cdrTokenOf({ idToken: 'NLABCC12345678X', type: 'ISO14443' }, pushed, billingConfigDefault)).toEqual({
      country_code: 'DE',
      party_id: 'EMP',
      uid: 'NLABCC12345678X',
      type: 'RFID',
      contract_id: 'NL-ABC-C12345678-X',
    });
  });

  it('a token we do not know is ours, with its uid as contract id (mod_cdrs CdrToken)', () => {
    expect(cdrTokenOf({ idToken: 'DE-EMP-C1', type: 'eMAID' }, null, billingConfigDefault)).toEqual({
      country_code: 'NL',
      party_id: 'CSM',
      uid: 'DE-EMP-C1',
      type: 'APP_USER',
      contract_id: 'DE-EMP-C1',
    });
  });

  it('the eMSP that authorized the session (real time, START_SESSION) is the party, for a token we do not hold or hold as ours', () => {
    const emp = { countryCode: 'DE', partyId: 'EMP' };
    expect(cdrTokenOf({ idToken: 'APP-1', type: 'Central' }, null, billingConfigDefault, emp)).toEqual({ country_code: 'DE', party_id: 'EMP', uid: 'APP-1', type: 'APP_USER', contract_id: 'APP-1' });
    // Our own card of the same uid says nothing about the eMSP's contract.
    expect(cdrTokenOf(card, ownCard, billingConfigDefault, emp)).toEqual({ country_code: 'DE', party_id: 'EMP', uid: 'TAG001', type: 'RFID', contract_id: 'TAG001' });
    // A token that eMSP pushed keeps its contract.
    const pushed: TokenFacts = { contractId: 'DE-EMP-C1', tokenType: 'APP_USER', party: emp };
    expect(cdrTokenOf({ idToken: 'APP-1', type: 'Central' }, pushed, billingConfigDefault, emp)).toEqual({ country_code: 'DE', party_id: 'EMP', uid: 'APP-1', type: 'APP_USER', contract_id: 'DE-EMP-C1' });
  });

  it("a token we do not hold names the contract_id and type its authorizing eMSP's Token said (START_SESSION, real time; OCPI 13.3.5)", () => {
    const told = { countryCode: 'DE', partyId: 'EMP', contractId: 'DE-EMP-C99', tokenType: 'APP_USER' as const };
    expect(cdrTokenOf({ idToken: 'APP-9', type: 'Central' }, null, billingConfigDefault, told)).toEqual({ country_code: 'DE', party_id: 'EMP', uid: 'APP-9', type: 'APP_USER', contract_id: 'DE-EMP-C99' });
    // Our own card of that uid says nothing of the eMSP's contract: its Token's word stands.
    expect(cdrTokenOf(card, ownCard, billingConfigDefault, { ...told, tokenType: 'RFID' })).toEqual({ country_code: 'DE', party_id: 'EMP', uid: 'TAG001', type: 'RFID', contract_id: 'DE-EMP-C99' });
    // A token that eMSP pushed is what we hold of it: our copy stands.
    const pushed: TokenFacts = { contractId: 'DE-EMP-C1', tokenType: 'RFID', party: { countryCode: 'DE', partyId: 'EMP' } };
    expect(cdrTokenOf({ idToken: 'APP-9', type: 'Central' }, pushed, billingConfigDefault, told)).toMatchObject({ type: 'RFID', contract_id: 'DE-EMP-C1' });
  });

  it('our own tokens follow the configured party', () => {
    expect(cdrTokenOf(card, ownCard, billingConfigFor({ countryCode: 'be', partyId: 'ocx' }))).toMatchObject({ country_code: 'BE', party_id: 'OCX' });
  });
});

describe('one CPO party', () => {
  it('billing defaults to the OCPI default party (credentials, locations, sessions), not a second one', () => {
    expect(billingConfigDefault.cpo).toEqual(ourParty(loadConfig({}, '/x').ocpi));
    expect(billingConfigDefault.cpo).toEqual(ourParty(ocpiSettingsDefault));
    expect(billingConfigDefault.cpo).toEqual({ countryCode: 'NL', partyId: 'CSM' });
  });

  it('billingConfigFor the configured OCPI party gives CDRs that party, keeping the rest', () => {
    const config = billingConfigFor(ourParty(loadConfig({ OCPI_COUNTRY_CODE: 'de', OCPI_PARTY_ID: 'ab1' }, '/x').ocpi));
    expect(config).toEqual({ ...billingConfigDefault, cpo: { countryCode: 'DE', partyId: 'AB1' } });
  });
});
