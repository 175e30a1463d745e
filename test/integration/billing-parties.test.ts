import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { issueToken } from '../../api/operator-commands.js';
import { createCommandBus, type Command, type CommandBus } from '../../commands/index.js';
import { billingConfigFor, catchUpCdrIssuer, memoryCheckpoint, type BillingConfig } from '../../commands/process/index.js';
import { loadState } from '../../commands/process/streams.js';
import { cdrDecider, type OcpiCdr } from '../../domain/cdr/index.js';
import { entriesOf, ledgerDecider, ledgerJournalId } from '../../domain/ledger/index.js';
import { streamName } from '../../domain/shared/event.js';
import { writeToken } from '../../ocpi/tokens/store.js';
import { emspToken } from '../support/emsp-partner.js';
import { createTestPgliteDatabase } from '../support/services.js';

/**
 * Issue 10, points 2 and 3: every CDR names the right parties, and its entry the right receivable.
 * The token's party is the one recorded with the token (the eMSP that pushed it over OCPI, or us
 * for the operator's own tokens), never one read into its uid; the CPO party is our one OCPI party.
 * Tokens come in the real ways (the operator's issueToken, OCPI tokens' writeToken); the CDR
 * issuer bills; the CDR and the journal are read from their streams.
 */

const clock = fixedClock('2025-03-03T08:00:00.000Z');
const at = (minutes: number) => new Date(Date.parse('2025-03-03T09:00:00Z') + minutes * 60_000).toISOString();

/** 0.30 EUR/kWh at 21 % VAT: 10 kWh cost 3.00 excl., 3.63 incl. */
const tariffOf = (party: { countryCode: string; partyId: string }) => ({
  country_code: party.countryCode,
  party_id: party.partyId,
  id: 'STD',
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
  last_updated: '2025-03-01T00:00:00Z',
});

let db: SqlDatabase;
let store: EventStore;
let bus: CommandBus;
let n = 0;

const send = (tenantId: string, aggregateId: string, command: Command) =>
  bus.send({ commandId: `test-${n++}`, tenantId, aggregateId, actor: 'user:test', correlationId: `c-${n}`, occurredAt: clock.now().toISOString(), command });

async function prepareTenant(tenantId: string, party: { countryCode: string; partyId: string }) {
  clock.set('2025-03-03T08:00:00.000Z');
  await send(tenantId, 'STD', { type: 'CreateTariff', tariff: tariffOf(party), createdAt: clock.now().toISOString() });
  await send(tenantId, 'tenant', { type: 'AttachTariff', tariffId: 'STD', scope: { kind: 'tenant' }, attachedAt: clock.now().toISOString() });
}

/** A 10 kWh session on CP-1 with this id token, ended at the given minute. */
async function charge(tenantId: string, transactionId: string, idToken: string, type = 'ISO14443') {
  clock.set(at(0));
  await send(tenantId, transactionId, { type: 'StartTransaction', transactionId, stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: { idToken, type }, meterStartWh: new Decimal(0), startedAt: at(0) });
  clock.set(at(60));
  await send(tenantId, transactionId, { type: 'EndTransaction', meterStopWh: new Decimal(10_000), endedAt: at(60), reason: 'EVDisconnected' });
}

async function bill(config?: BillingConfig) {
  await catchUpCdrIssuer({ eventStore: store, bus, ...(config ? { config } : {}) }, memoryCheckpoint());
}

async function cdrOf(tenantId: string, cdrId: string): Promise<OcpiCdr> {
  const state = await loadState(store, cdrDecider, streamName('cdr', tenantId, cdrId));
  if (state.status !== 'issued') throw new Error(`CDR ${cdrId} of ${tenantId} was not issued`);
  return state.issued.cdr;
}

async function journal(tenantId: string) {
  const ledger = await loadState(store, ledgerDecider, streamName('ledger', tenantId, ledgerJournalId));
  return { accounts: [...ledger.accounts.keys()], entries: [...entriesOf(ledger)] };
}

/** The account the entry of this CDR debits (the receivable), and the amount. */
async function receivableOf(tenantId: string, cdr: OcpiCdr) {
  const entry = (await journal(tenantId)).entries.find((e) => e.entryId === `cdr:${cdr.country_code}-${cdr.party_id}:${cdr.id}`);
  const debit = entry?.lines.find((line) => line.side === 'debit');
  return debit === undefined ? undefined : { account: debit.account, amount: debit.amount };
}

beforeAll(async () => {
  db = await createTestPgliteDatabase();
  store = await openPostgresEventStore(db);
  bus = createCommandBus({ eventStore: store, clock });
});

afterAll(async () => {
  await store?.close();
  await db?.close();
});

describe('with the default CPO party (NL/CSM, as OCPI credentials, locations and sessions say)', () => {
  const tenantId = 'acme';
  const operator = () => ({ bus, clock, tenantId, actor: 'user:test' });

  beforeAll(async () => {
    await prepareTenant(tenantId, { countryCode: 'NL', partyId: 'CSM' });
    // Our own cards, as `csms tokens add` issues them: one for a fleet customer, one with the default issuer.
    await issueToken(operator(), { uid: 'TAG001', issuer: 'ACME Fleet B.V.' });
    await issueToken(operator(), { uid: 'TAG002' });
    // An eMSP's token whose uid and contract id look like an eMAID of another party (NL/ABC).
    await writeToken(bus, { tenantId, partnerId: 'emsp', correlationId: 'pull-1', commandIdPrefix: 'pull-1' }, emspToken('NLABCC12345678X', { contract_id: 'NL-ABC-C12345678-X' }));
    await charge(tenantId, 'T-OWN', 'TAG001');
    await charge(tenantId, 'T-OWN-2', 'TAG002');
    await charge(tenantId, 'T-EMSP', 'NLABCC12345678X');
    // No token of this uid exists: a station let it charge (OCPP_UNKNOWN_TOKENS=accept, or offline).
    await charge(tenantId, 'T-GHOST', 'GHOST-1');
    await bill();
  });

  it('an own token TAG001 names our party NL/CSM, not TA/G00 read into its uid', async () => {
    const cdr = await cdrOf(tenantId, 'T-OWN');
    expect(cdr.cdr_token).toEqual({ country_code: 'NL', party_id: 'CSM', uid: 'TAG001', type: 'RFID', contract_id: 'TAG001' });
    expect({ country_code: cdr.country_code, party_id: cdr.party_id }).toEqual({ country_code: 'NL', party_id: 'CSM' });
    expect(cdr.cdr_location.evse_id).toBe('NL*CSM*ECP-1*1');
  });

  it('an own token is owed by the customer it was issued for (its issuer), never by a made-up eMSP', async () => {
    expect(await receivableOf(tenantId, await cdrOf(tenantId, 'T-OWN'))).toEqual({ account: 'receivable:customer:ACME_Fleet_B.V.', amount: '3.63' });
    expect(await receivableOf(tenantId, await cdrOf(tenantId, 'T-OWN-2'))).toEqual({ account: 'receivable:customer:Open-CSMS', amount: '3.63' });
    const { accounts } = await journal(tenantId);
    expect(accounts.filter((code) => code.startsWith('receivable:emsp:'))).toEqual(['receivable:emsp:DE-EMP']);
  });

  it("an eMSP's token names the eMSP that pushed it (DE/EMP), whatever its uid looks like", async () => {
    const cdr = await cdrOf(tenantId, 'T-EMSP');
    expect(cdr.cdr_token).toEqual({ country_code: 'DE', party_id: 'EMP', uid: 'NLABCC12345678X', type: 'RFID', contract_id: 'NL-ABC-C12345678-X' });
    expect({ country_code: cdr.country_code, party_id: cdr.party_id }).toEqual({ country_code: 'NL', party_id: 'CSM' });
    expect(await receivableOf(tenantId, cdr)).toEqual({ account: 'receivable:emsp:DE-EMP', amount: '3.63' });
  });

  it('a token nobody issued is ours too, its contract id the uid; one receivable holds all such sessions', async () => {
    const cdr = await cdrOf(tenantId, 'T-GHOST');
    expect(cdr.cdr_token).toEqual({ country_code: 'NL', party_id: 'CSM', uid: 'GHOST-1', type: 'RFID', contract_id: 'GHOST-1' });
    expect(await receivableOf(tenantId, cdr)).toEqual({ account: 'receivable:unknown-tokens', amount: '3.63' });
  });
});

describe('with a configured CPO party (OCPI_COUNTRY_CODE=be, OCPI_PARTY_ID=ocx)', () => {
  const tenantId = 'beta';

  beforeAll(async () => {
    await prepareTenant(tenantId, { countryCode: 'BE', partyId: 'OCX' });
    await issueToken({ bus, clock, tenantId, actor: 'user:test' }, { uid: 'TAG001' });
    await charge(tenantId, 'T-BE', 'TAG001');
    await bill(billingConfigFor({ countryCode: 'be', partyId: 'ocx' }));
  });

  it('the CDR, its own-token cdr_token, its evse_id placeholder and its entry name that party', async () => {
    const cdr = await cdrOf(tenantId, 'T-BE');
    expect({ country_code: cdr.country_code, party_id: cdr.party_id }).toEqual({ country_code: 'BE', party_id: 'OCX' });
    expect(cdr.cdr_token).toMatchObject({ country_code: 'BE', party_id: 'OCX', uid: 'TAG001' });
    expect(cdr.cdr_location.evse_id).toBe('BE*OCX*ECP-1*1');
    expect(await receivableOf(tenantId, cdr)).toEqual({ account: 'receivable:customer:Open-CSMS', amount: '3.63' });
  });
});
