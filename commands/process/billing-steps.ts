import type { EventStore, RecordedEvent } from '../../adapters/event-store/port.js';
import { cdrDecider, creditCdrFrom, type IssuedCdr } from '../../domain/cdr/index.js';
import {
  accountCodes,
  entryForCdr,
  entryIdForCdr,
  findEntry,
  ledgerDecider,
  ledgerJournalId,
  linesForCdr,
  reversalOf,
  type Account,
  type AccountNeeded,
  type CdrPayer,
  type EntryForCdrOptions,
} from '../../domain/ledger/index.js';
import { invariant } from '../../domain/shared/assert.js';
import { parseStreamName, streamName } from '../../domain/shared/event.js';
import { priceMeterSamples } from '../../domain/tariff/pricing.js';
import type { TokenEvent, TokenFacts as RecordedTokenFacts } from '../../domain/token/events.js';
import type { TransactionEventData } from '../../domain/transaction/events.js';
import type { Command, CommandBus } from '../bus.js';
import { billingConfigDefault, type BillingConfig, type CdrSiteLookup } from './billing-config.js';
import { buildCdr, cdrIdForTransaction, cdrSessionTokenOf, type TokenFacts } from './cdr-builder.js';
import { meterSamplesOf, type EndedSession } from './session-samples.js';
import { loadState, readStreamEvents } from './streams.js';
import { findTariffInForce, scopesOf } from './tariff-lookup.js';

/**
 * The steps of billing a session, shared by the CDR process manager (cdr-issuer.ts) and the CLI
 * (`csms cdr credit` completes a credit at once instead of waiting for a server). Every command
 * has a deterministic id and every step first looks at what is already recorded, so running a
 * step twice (at-least-once delivery, a crash between steps) changes nothing.
 */

export const billingActor = 'system:cdr-issuer';

export interface BillingDeps {
  readonly eventStore: EventStore;
  readonly bus: CommandBus;
  /** Default billingConfigDefault (the default OCPI party); `csms serve` passes billingConfigFor(our OCPI party). */
  readonly config?: BillingConfig;
  /** The station's location for the CDR; without it (or for a station in no location) the config's placeholders. */
  readonly siteOf?: CdrSiteLookup;
}

interface Cause {
  readonly tenantId: string;
  readonly correlationId: string;
  /** The cause's recorded time: the commands' occurredAt, so a retry sends the same envelope. */
  readonly at: string;
}

async function send(deps: BillingDeps, cause: Cause, commandId: string, aggregateId: string, command: Command) {
  return deps.bus.send({ commandId, tenantId: cause.tenantId, aggregateId, actor: billingActor, correlationId: cause.correlationId, occurredAt: cause.at, command });
}

/**
 * A token's facts as recorded up to `asOf` (the session's end, the CDR's last_updated), null when
 * it was not issued by then. The CDR and its journal entry read the same facts, on every retry.
 */
async function tokenFactsAsOf(store: EventStore, tenantId: string, uid: string | undefined, asOf: string): Promise<RecordedTokenFacts | null> {
  if (uid === undefined) return null;
  const until = Date.parse(asOf);
  let facts: RecordedTokenFacts | null = null;
  for (const { event, recorded } of await readStreamEvents(store, streamName('token', tenantId, uid))) {
    if (Date.parse(recorded.metadata.recordedAt) > until) break;
    const token = event as TokenEvent;
    if (token.type === 'TokenIssued' || token.type === 'TokenUpdated') facts = token.data;
  }
  return facts;
}

/** What the CDR names of a token: an OCPI token's party is the eMSP that pushed it; ours have none. */
function cdrTokenFactsOf(token: RecordedTokenFacts): TokenFacts {
  const pushed = token.source === 'ocpi' && token.countryCode !== undefined && token.partyId !== undefined;
  return { contractId: token.contractId, tokenType: token.tokenType, party: pushed ? { countryCode: token.countryCode!, partyId: token.partyId! } : null };
}

/** The transaction's facts from its stream. null when it has not ended (nothing to bill yet). */
export async function endedSessionOf(store: EventStore, tenantId: string, transactionId: string): Promise<EndedSession | null> {
  let started: TransactionEventData<'TransactionStarted'> | null = null;
  let ended: TransactionEventData<'TransactionEnded'> | null = null;
  const readings: TransactionEventData<'MeterReadingRecorded'>[] = [];
  const chargingStates: TransactionEventData<'ChargingStateChanged'>[] = [];
  const authorizations: TransactionEventData<'TransactionAuthorized'>[] = [];
  for (const { event } of await readStreamEvents(store, streamName('transaction', tenantId, transactionId))) {
    if (event.type === 'TransactionAuthorized') authorizations.push(event.data);
    else if (event.type === 'TransactionStarted') started = event.data;
    else if (event.type === 'MeterReadingRecorded') readings.push(event.data);
    else if (event.type === 'ChargingStateChanged') chargingStates.push(event.data);
    else if (event.type === 'TransactionEnded') ended = event.data;
  }
  return started && ended ? { started, ended, readings, chargingStates, authorizations } : null;
}

/** Issues the CDR of an ended transaction (or finds the one issued before) and posts its entry. */
export async function billTransaction(deps: BillingDeps, ended: RecordedEvent): Promise<IssuedCdr | null> {
  const config = deps.config ?? billingConfigDefault;
  const { tenantId, id: transactionId } = parseStreamName(ended.streamId);
  const cause = { tenantId, correlationId: ended.metadata.correlationId, at: ended.metadata.recordedAt };
  const cdrId = cdrIdForTransaction(transactionId);
  const existing = await loadState(deps.eventStore, cdrDecider, streamName('cdr', tenantId, cdrId));
  let issued: IssuedCdr;
  if (existing.status === 'issued') {
    // Issued before (a retry after a crash): never price again, a tariff may have changed since.
    issued = existing.issued;
  } else {
    const session = await endedSessionOf(deps.eventStore, tenantId, transactionId);
    if (session === null) return null;
    // The token the session was authorized with (a 2.0.1 start may name none: cable first).
    const token = await tokenFactsAsOf(deps.eventStore, tenantId, cdrSessionTokenOf(session)?.idToken.idToken, ended.metadata.recordedAt);
    const { started } = session;
    const site = (await deps.siteOf?.(tenantId, started.stationId, started.evseId, started.connectorId)) ?? null;
    const locationId = site?.location.id ?? config.location.id;
    const timeZone = site?.timeZone ?? config.timeZone;
    const scopes = scopesOf({ stationId: started.stationId, evseId: started.evseId, tokenGroupId: token?.groupId ?? null, locationId });
    const inForce = await findTariffInForce(deps.eventStore, tenantId, scopes, started.startedAt);
    const price = inForce ? priceMeterSamples(inForce.tariff, meterSamplesOf(session), { timeZone }) : null;
    const facts = token === null ? null : cdrTokenFactsOf(token);
    const cdr = buildCdr({ cdrId, transactionId, session, price, tariff: inForce?.tariff ?? null, token: facts, lastUpdated: ended.metadata.recordedAt, config, site });
    issued = { cdr, transactionId, tenantId, tariffVersionId: inForce?.versionId ?? null, replacesCdrId: null };
    await send(deps, cause, `cdr-for:${transactionId}`, cdrId, { type: 'IssueCdr', ...issued });
  }
  await postCdrEntry(deps, cause, issued);
  return issued;
}

function accountName(account: AccountNeeded): string {
  const [head, ...rest] = account.code.split(':');
  if (head === 'receivable') return `Receivable from ${rest.join(' ')}`;
  if (head === 'vat-payable') return `VAT payable at ${rest.join(':')} %`;
  if (account.code === accountCodes.revenueCharging) return 'Charging revenue';
  return account.code;
}

/**
 * Who owes a CDR (ARCHITECTURE.md, Ledger): a token of another party is roaming, its eMSP pays. A
 * token of the CDR's own party is ours: the customer the operator issued it for (its issuer) pays;
 * a token never issued (the unknown-token policy let it charge) goes to one account for all such.
 */
async function payerOf(store: EventStore, issued: IssuedCdr): Promise<CdrPayer> {
  const { cdr } = issued;
  const ours = cdr.cdr_token.country_code === cdr.country_code && cdr.cdr_token.party_id === cdr.party_id;
  if (!ours) return { kind: 'emsp' };
  const token = await tokenFactsAsOf(store, issued.tenantId, cdr.cdr_token.uid, cdr.last_updated);
  return token?.source === 'local' ? { kind: 'customer', customer: token.issuer } : { kind: 'unknown-token' };
}

/** The configured VAT rate for a CDR whose tariff snapshot names none (BillingConfig.vatRateFallbackPercent). */
function vatOptionsOf(deps: BillingDeps): EntryForCdrOptions {
  const fallback = (deps.config ?? billingConfigDefault).vatRateFallbackPercent;
  return fallback === null ? {} : { fallbackVatRatePercent: fallback };
}

/**
 * Posts the journal entry of an issued CDR: opens the accounts it needs, then the entry (the
 * ledger decider refuses one that does not balance). A credit CDR posts the exact reversal of its
 * original's entry (reversalOf), so the pair leaves every account as it was.
 */
export async function postCdrEntry(deps: BillingDeps, cause: Cause, issued: IssuedCdr): Promise<void> {
  const entryId = entryIdForCdr(issued);
  if (issued.cdr.credit === true) {
    const ledger = await loadState(deps.eventStore, ledgerDecider, streamName('ledger', issued.tenantId, ledgerJournalId));
    if (findEntry(ledger, entryId)) return;
    const originalId = issued.cdr.credit_reference_id!;
    const original = await loadState(deps.eventStore, cdrDecider, streamName('cdr', issued.tenantId, originalId));
    invariant(original.status === 'issued', `credit CDR ${issued.cdr.id} credits ${originalId}, which is not issued`);
    const originalEntry = findEntry(ledger, entryIdForCdr(original.issued));
    // A free session posted nothing, so its credit reverses nothing.
    if (originalEntry === undefined) {
      // Who pays does not change how many lines there are.
      invariant(linesForCdr(original.issued, vatOptionsOf(deps)).lines.length === 0, `CDR ${originalId} has no journal entry to reverse`);
      return;
    }
    const reversal = reversalOf(originalEntry, entryId, issued.cdr.last_updated, { kind: 'credit-cdr', id: issued.cdr.id });
    await send(deps, cause, `ledger-for:${entryId}`, ledgerJournalId, { type: 'PostJournalEntry', entry: { ...reversal, description: `Credit CDR ${issued.cdr.id} for CDR ${originalId}` } });
    return;
  }
  const options: EntryForCdrOptions = { payer: await payerOf(deps.eventStore, issued), ...vatOptionsOf(deps) };
  const { accounts } = linesForCdr(issued, options);
  const open = new Map<string, Account>();
  for (const account of accounts) {
    if (open.has(account.code)) continue;
    const data = { code: account.code, name: accountName(account), kind: account.kind, currency: account.currency, openedAt: issued.cdr.last_updated };
    // Opening an open account is a no-op; one open in another currency is refused (and reported).
    await send(deps, cause, `open-account:${account.code}`, ledgerJournalId, { type: 'OpenAccount', ...data });
    open.set(account.code, data);
  }
  const entry = entryForCdr(issued, open, options);
  if (entry === null) return;
  await send(deps, cause, `ledger-for:${entryId}`, ledgerJournalId, { type: 'PostJournalEntry', entry });
}

/**
 * After CdrCredited on an original CDR's stream: issues the credit CDR (OCPI credit=true,
 * credit_reference_id, every total negated) on its own stream and posts the reversal.
 */
export async function completeCredit(deps: BillingDeps, credited: RecordedEvent): Promise<IssuedCdr> {
  const { tenantId, id: cdrId } = parseStreamName(credited.streamId);
  const cause = { tenantId, correlationId: credited.metadata.correlationId, at: credited.metadata.recordedAt };
  const original = await loadState(deps.eventStore, cdrDecider, streamName('cdr', tenantId, cdrId));
  invariant(original.status === 'issued' && original.credited !== null, `CdrCredited on ${credited.streamId} without an issued, credited CDR`);
  // The original's own entry first: a credit must never post before what it reverses.
  await postCdrEntry(deps, cause, original.issued);
  const creditIssued = creditCdrFrom(original.issued, original.credited.creditCdrId, original.credited.creditedAt);
  await send(deps, cause, `credit-cdr-for:${cdrId}`, creditIssued.cdr.id, {
    type: 'IssueCdr',
    cdr: creditIssued.cdr,
    transactionId: creditIssued.transactionId,
    tenantId: creditIssued.tenantId,
    tariffVersionId: creditIssued.tariffVersionId,
    replacesCdrId: null,
  });
  await postCdrEntry(deps, cause, creditIssued);
  return creditIssued;
}
