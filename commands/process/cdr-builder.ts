import { createHash } from 'node:crypto';
import { Decimal } from 'decimal.js';
import type { OcpiCdr, Price } from '../../domain/cdr/ocpi.js';
import { signedValuesPerCdrMax } from '../../domain/cdr/ocpi.js';
import { currencyMinorUnits } from '../../domain/tariff/currencies.js';
import { Exact } from '../../domain/tariff/exact.js';
import { periodVolumesOf } from '../../domain/tariff/period-volumes.js';
import type { CostPair, PricedChargingPeriod, SessionPrice } from '../../domain/tariff/pricing.js';
import { invariant } from '../../domain/shared/assert.js';
import type { Tariff } from '../../domain/tariff/schema.js';
import type { IdToken } from '../../domain/shared/values.js';
import { ocpiTokenTypeOf } from '../../domain/shared/token-type.js';
import { sessionAuthMethodOf, sessionAuthorizationOf, sessionTokenOf, type SessionToken } from '../../domain/transaction/session-authorization.js';
import type { AuthorizingParty } from '../../domain/transaction/events.js';
import type { BillingConfig, CdrSite, OcpiPartyId } from './billing-config.js';
import { meteredEnergyWh, meterSamplesOf, unpricedPeriodsOf, type EndedSession } from './session-samples.js';

/** OCPI CDR.id is CiString(39); three characters are kept free for the credit CDR's suffix. */
const cdrIdLengthMax = 36;
export const creditCdrSuffix = '-CR';

/** Deterministic: the same transaction always gets the same CDR id (a retry issues nothing new). */
export function cdrIdForTransaction(transactionId: string): string {
  if (transactionId.length <= cdrIdLengthMax && /^[\x21-\x7E]+$/.test(transactionId)) return transactionId;
  return `H${createHash('sha256').update(transactionId).digest('hex').slice(0, cdrIdLengthMax - 1)}`;
}

export const creditCdrIdFor = (cdrId: string) => `${cdrId}${creditCdrSuffix}`;

/** The token facts a CDR needs (token stream, when we know the token). */
export interface TokenFacts {
  readonly contractId: string;
  readonly tokenType: string;
  /** The eMSP that pushed the token through OCPI tokens; null: one of our own (the operator's). */
  readonly party: OcpiPartyId | null;
}


/**
 * CdrToken: the party is the eMSP that authorized the session (its real-time answer, its
 * START_SESSION), whether we hold the token or not; else the token's own, as recorded: the eMSP
 * that pushed it (OCPI tokens), else ours (tokens the operator issued, and unknown tokens the
 * policy let charge). Never guessed from the uid or contract id: `TAG001` is nobody's party code,
 * and an eMSP's uid may look like another's eMAID. contract_id and type: the token's; for a token
 * we do not hold of the authorizing eMSP, what its Token said (START_SESSION, real-time answer;
 * OCPI 2.2.1 13.3.5); else the uid (mod_cdrs CdrToken) and the station's type. Our copy of a token
 * another party than the authorizing eMSP holds says nothing about this session's contract.
 */
export function cdrTokenOf(idToken: IdToken | null, token: TokenFacts | null, config: BillingConfig, authorizingParty: AuthorizingParty | null = null): OcpiCdr['cdr_token'] {
  const uid = (idToken?.idToken ?? 'UNKNOWN').slice(0, 36);
  const held = authorizingParty === null || (token?.party != null && sameParty(token.party, authorizingParty)) ? token : null;
  const facts = held ?? (authorizingParty === null ? null : toldFactsOf(authorizingParty));
  const contractId = (facts?.contractId ?? uid).slice(0, 36);
  const party = authorizingParty ?? facts?.party ?? config.cpo;
  return { country_code: party.countryCode, party_id: party.partyId, uid, type: ocpiTokenTypeOf(facts?.tokenType ?? idToken?.type ?? 'OTHER'), contract_id: contractId };
}

/** What the authorizing eMSP's Token said of a token we do not hold (each part optional). */
const toldFactsOf = (party: AuthorizingParty): Partial<TokenFacts> => ({
  ...(party.contractId === undefined ? {} : { contractId: party.contractId }),
  ...(party.tokenType === undefined ? {} : { tokenType: party.tokenType }),
});

const sameParty = (a: OcpiPartyId, b: OcpiPartyId) => a.countryCode === b.countryCode && a.partyId === b.partyId;

/**
 * The token a CDR names: the one its session was authorized with (the start's, else the first
 * accepted authorization's: 2.0.1 cable first), with the eMSP that authorized it; the OCPI Session
 * follows the same rule (domain/transaction/session-authorization.ts).
 */
export function cdrSessionTokenOf(session: Pick<EndedSession, 'started' | 'authorizations'>): SessionToken | null {
  return sessionTokenOf(session.started, session.authorizations ?? []);
}

/** OCPI numbers carry 4 decimals (ARCHITECTURE.md, Rounding): the part totals and quantities. */
function pricePart(pair: CostPair): Price {
  return pair.vat_applicable ? { excl_vat: pair.excl_vat.fixed4, incl_vat: pair.incl_vat.fixed4 } : { excl_vat: pair.excl_vat.fixed4 };
}

/**
 * total_cost is what is charged, invoiced and posted to the ledger: rounded to the currency's
 * minor unit (EUR cents, JPY yen, KWD fils), each side from its exact value (ARCHITECTURE.md, Rounding).
 */
function priceCharged(pair: CostPair, currency: string): Price {
  const digits = currencyMinorUnits(currency);
  return pair.vat_applicable ? { excl_vat: pair.excl_vat.toFixed(digits), incl_vat: pair.incl_vat.toFixed(digits) } : { excl_vat: pair.excl_vat.toFixed(digits) };
}

/** OCPI SignedData from the readings' signed meter values, kept verbatim (never re-encoded). */
export function signedDataOf(readings: EndedSession['readings']): OcpiCdr['signed_data'] {
  const values: { encoding: string; publicKey?: string; signed: string }[] = [];
  for (const reading of readings) {
    const raw = reading.signedData as unknown;
    if (raw === null || raw === undefined) continue;
    if (typeof raw === 'string') values.push({ encoding: raw.startsWith('OCMF|') ? 'OCMF' : 'UNKNOWN', signed: raw });
    else if (typeof raw === 'object' && typeof (raw as Record<string, unknown>).signedMeterData === 'string') {
      const object = raw as Record<string, unknown>;
      values.push({
        encoding: typeof object.encodingMethod === 'string' ? object.encodingMethod : 'UNKNOWN',
        ...(typeof object.publicKey === 'string' && object.publicKey.length > 0 ? { publicKey: object.publicKey } : {}),
        signed: object.signedMeterData as string,
      });
    }
  }
  // A value longer than OCPI allows cannot be shortened without breaking its signature: left out.
  const kept = values.filter((v) => v.signed.length <= 5000 && v.encoding.length <= 36);
  if (kept.length === 0) return undefined;
  // The start and the end matter most to a driver checking the bill; keep them when there are too many.
  const chosen = kept.length <= signedValuesPerCdrMax ? kept : [...kept.slice(0, signedValuesPerCdrMax - 1), kept.at(-1)!];
  const publicKey = chosen.find((v) => v.publicKey !== undefined)?.publicKey;
  return {
    encoding_method: chosen[0]!.encoding,
    ...(publicKey !== undefined && publicKey.length <= 512 ? { public_key: publicKey } : {}),
    signed_values: chosen.map((v, i) => ({ nature: i === 0 ? 'Start' : i === chosen.length - 1 ? 'End' : 'Intermediate', plain_data: '', signed_data: v.signed })),
  };
}

/**
 * auth_method and authorization_reference by the rules the OCPI Session uses too
 * (domain/transaction/session-authorization.ts): COMMAND for a remote start, AUTH_REQUEST when the
 * eMSP answered a real-time authorization, else WHITELIST; the eMSP's last reference, if it gave one.
 */
export function cdrAuthorizationOf(session: Pick<EndedSession, 'started' | 'authorizations'>): Pick<OcpiCdr, 'auth_method' | 'authorization_reference'> {
  const authorization = sessionAuthorizationOf(session.started, session.authorizations ?? []);
  const reference = authorization.authorizationReference;
  return { auth_method: sessionAuthMethodOf(authorization), ...(reference === null ? {} : { authorization_reference: reference }) };
}

export interface CdrInput {
  readonly cdrId: string;
  readonly transactionId: string;
  readonly session: EndedSession;
  readonly price: SessionPrice | null;
  readonly tariff: Tariff | null;
  /** The facts of the session's token (cdrSessionTokenOf), as recorded when the session ended. */
  readonly token: TokenFacts | null;
  /** Deterministic "now" of the CDR: the TransactionEnded event's recordedAt. */
  readonly lastUpdated: string;
  readonly config: BillingConfig;
  /** The station's real location; null: the config's placeholder location. */
  readonly site?: CdrSite | null;
}

/** The OCPI 2.2.1 CDR of a finished, priced session (mod_cdrs "CDR Object"). */
export function buildCdr(input: CdrInput): OcpiCdr {
  const { session, price, config } = input;
  const started = session.started;
  const sessionToken = cdrSessionTokenOf(session);
  const endMs = Math.max(Date.parse(started.startedAt), Date.parse(session.ended.endedAt));
  const currency = price?.currency ?? config.currencyWhenFree;
  // What the meter says the session consumed (stop − start register), priced or not; pricing uses
  // only readings consistent with it, so this is also the energy priced (ARCHITECTURE.md, Billing).
  const totalEnergy = meteredEnergyWh(session).div(1000).toFixed(4, Decimal.ROUND_HALF_UP);
  // No tariff applies: the periods still say what was delivered, and when (not 0 kWh).
  const periods = cdrPeriodsOf(price?.charging_periods ?? unpricedPeriodsOf(meterSamplesOf(session)), totalEnergy, started.startedAt, input.tariff?.id);
  const cdr: OcpiCdr = {
    country_code: config.cpo.countryCode,
    party_id: config.cpo.partyId,
    id: input.cdrId,
    start_date_time: started.startedAt,
    end_date_time: new Date(endMs).toISOString(),
    session_id: input.cdrId,
    cdr_token: cdrTokenOf(sessionToken?.idToken ?? null, input.token, config, sessionToken?.authorizingParty ?? null),
    ...cdrAuthorizationOf(session),
    cdr_location: input.site?.location ?? {
      ...config.location,
      evse_uid: `${started.stationId}*${started.evseId}`.slice(0, 36),
      evse_id: `${config.cpo.countryCode}*${config.cpo.partyId}*E${started.stationId}*${started.evseId}`.slice(0, 48),
      connector_id: String(started.connectorId),
    },
    currency,
    ...(input.tariff ? { tariffs: [{ ...input.tariff }] } : {}),
    charging_periods: periods,
    total_cost: price ? priceCharged(price.total_cost, currency) : { excl_vat: (0).toFixed(currencyMinorUnits(currency)) },
    total_energy: totalEnergy,
    total_time: price ? price.total_time.fixed4 : new Exact(BigInt(endMs - Date.parse(started.startedAt)), 3_600_000n).fixed4,
    last_updated: input.lastUpdated,
  };
  const signed = signedDataOf(session.readings);
  if (signed) cdr.signed_data = signed;
  if (price) {
    cdr.total_fixed_cost = pricePart(price.total_fixed_cost);
    cdr.total_energy_cost = pricePart(price.total_energy_cost);
    cdr.total_time_cost = pricePart(price.total_time_cost);
    cdr.total_parking_time = price.total_parking_time.fixed4;
    cdr.total_parking_cost = pricePart(price.total_parking_cost);
    if (!price.total_reservation_cost.excl_vat.isZero()) cdr.total_reservation_cost = pricePart(price.total_reservation_cost);
  }
  assertPeriodsAddUp(cdr);
  return cdr;
}

/**
 * The CDR's charging periods: one per priced (or, without a tariff, measured) period, their
 * volumes rounded cumulatively so they add up to the CDR's totals (period-volumes.ts). A session
 * of no time has no period: one at its start then says its energy.
 */
function cdrPeriodsOf(periods: readonly PricedChargingPeriod[], totalEnergy: string, startedAt: string, tariffId: string | undefined): OcpiCdr['charging_periods'] {
  if (periods.length === 0) return [{ start_date_time: startedAt, dimensions: [{ type: 'ENERGY', volume: totalEnergy }] }];
  const volumes = periodVolumesOf(periods, totalEnergy);
  return periods.map((period, i) => {
    const { energy, duration } = volumes[i]!;
    const timeType = period.state === 'CHARGING' ? 'TIME' : period.state === 'PARKING' ? 'PARKING_TIME' : 'RESERVATION_TIME';
    const dimensions: OcpiCdr['charging_periods'][number]['dimensions'] = [];
    if (energy !== null) dimensions.push({ type: 'ENERGY', volume: energy });
    dimensions.push({ type: timeType, volume: duration });
    return { start_date_time: period.start_date_time, dimensions, ...(tariffId === undefined ? {} : { tariff_id: tariffId }) };
  });
}

/** A reader adding up the periods gets the CDR's totals: ENERGY, TIME + PARKING_TIME, PARKING_TIME. */
function assertPeriodsAddUp(cdr: OcpiCdr): void {
  const sumOf = (...types: string[]) =>
    cdr.charging_periods.reduce((sum, period) => period.dimensions.reduce((s, d) => (types.includes(d.type) ? s.plus(d.volume) : s), sum), new Decimal(0));
  const check = (what: string, sum: Decimal, total: string) => invariant(sum.eq(total), `CDR ${cdr.id}: charging periods' ${what} add up to ${sum.toFixed()}, not ${total}`);
  check('ENERGY', sumOf('ENERGY'), cdr.total_energy);
  check('TIME + PARKING_TIME', sumOf('TIME', 'PARKING_TIME'), cdr.total_time);
  if (cdr.total_parking_time !== undefined) check('PARKING_TIME', sumOf('PARKING_TIME'), cdr.total_parking_time);
}
