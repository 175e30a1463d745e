import { createHash } from 'node:crypto';
import type { OcpiCdr, Price } from '../../domain/cdr/ocpi.js';
import { signedValuesPerCdrMax } from '../../domain/cdr/ocpi.js';
import { currencyMinorUnits } from '../../domain/tariff/currencies.js';
import { Exact } from '../../domain/tariff/exact.js';
import type { CostPair, SessionPrice } from '../../domain/tariff/pricing.js';
import type { Tariff } from '../../domain/tariff/schema.js';
import type { IdToken } from '../../domain/shared/values.js';
import type { BillingConfig, CdrSite } from './billing-config.js';
import type { EndedSession } from './session-samples.js';

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
}

/** OCPP/OCPI token type to OCPI 2.2.1 TokenType (CdrToken.type). */
function ocpiTokenType(type: string): OcpiCdr['cdr_token']['type'] {
  if (type === 'ISO14443' || type === 'ISO15693' || type === 'RFID') return 'RFID';
  if (type === 'eMAID' || type === 'APP_USER') return 'APP_USER';
  if (type === 'AD_HOC_USER') return 'AD_HOC_USER';
  return 'OTHER';
}

/** `NL-ABC-C12345678-X` / `NLABCC12345678X`: the eMSP that issued a contract id (eMA ID, ISO 15118). */
export function partyOfContractId(contractId: string): { countryCode: string; partyId: string } | null {
  const match = /^([A-Z]{2})-?([A-Z0-9]{3})/.exec(contractId.toUpperCase());
  return match ? { countryCode: match[1]!, partyId: match[2]! } : null;
}

export function cdrTokenOf(idToken: IdToken | null, token: TokenFacts | null, config: BillingConfig): OcpiCdr['cdr_token'] {
  const uid = (idToken?.idToken ?? 'UNKNOWN').slice(0, 36);
  const contractId = (token?.contractId ?? uid).slice(0, 36);
  const party = partyOfContractId(contractId) ?? config.cpo;
  return { country_code: party.countryCode, party_id: party.partyId, uid, type: ocpiTokenType(token?.tokenType ?? idToken?.type ?? 'OTHER'), contract_id: contractId };
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

export interface CdrInput {
  readonly cdrId: string;
  readonly transactionId: string;
  readonly session: EndedSession;
  readonly price: SessionPrice | null;
  readonly tariff: Tariff | null;
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
  const endMs = Math.max(Date.parse(started.startedAt), Date.parse(session.ended.endedAt));
  const currency = price?.currency ?? config.currencyWhenFree;
  const zero = '0';
  const periods: OcpiCdr['charging_periods'] = (price?.charging_periods ?? []).map((period) => {
    const timeType = period.state === 'CHARGING' ? 'TIME' : period.state === 'PARKING' ? 'PARKING_TIME' : 'RESERVATION_TIME';
    const dimensions: OcpiCdr['charging_periods'][number]['dimensions'] = [];
    if (period.state !== 'RESERVATION') dimensions.push({ type: 'ENERGY', volume: period.energy.fixed4 });
    dimensions.push({ type: timeType, volume: period.duration.fixed4 });
    return { start_date_time: period.start_date_time, dimensions, ...(input.tariff ? { tariff_id: input.tariff.id } : {}) };
  });
  if (periods.length === 0) periods.push({ start_date_time: started.startedAt, dimensions: [{ type: 'ENERGY', volume: zero }] });
  const cdr: OcpiCdr = {
    country_code: config.cpo.countryCode,
    party_id: config.cpo.partyId,
    id: input.cdrId,
    start_date_time: started.startedAt,
    end_date_time: new Date(endMs).toISOString(),
    session_id: input.cdrId,
    cdr_token: cdrTokenOf(started.idToken, input.token, config),
    // Our own token list (or the unknown-token policy) authorized it: OCPI calls that WHITELIST;
    // a remote start (idToken type Central) came as an OCPI/operator COMMAND.
    auth_method: started.idToken?.type === 'Central' ? 'COMMAND' : 'WHITELIST',
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
    total_energy: price ? price.total_energy.fixed4 : zero,
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
  return cdr;
}
