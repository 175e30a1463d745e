import { z } from 'zod';
import type { SqlExecutor } from '../../adapters/sql/port.js';
import { ocpiTokenTypeOf } from '../../domain/shared/token-type.js';
import { authorizingPartySchema, type AuthorizingParty } from '../../domain/transaction/events.js';
import { liveSchemaName } from '../../projections/schema.js';
import { ocpiRequest, OcpiClientError, type OcpiClientOptions } from '../client/client.js';
import { loadPartnerConnections, partnerEndpointUrl, routingTo, type PartnerConnection } from '../client/partners.js';
import type { TokenSealer } from '../credentials/seal.js';
import { findEvseByStation } from '../locations/lookup.js';
import { ciIdentifier } from '../schemas/primitives.js';
import { allowedTypes, type AllowedType, type LocationReferences, type TokenType } from '../schemas/tokens.js';
import { isHub, partiesOf, sameParty, type OcpiParty } from '../transport/headers.js';
import { OcpiStatus } from '../transport/status.js';
import { TtlLru } from './cache.js';

/**
 * Real-time authorization (mod_tokens "Sender Interface" of the eMSP, "Real-time authorization"):
 * POST {tokens url}/{token_uid}/authorize?type=... with optional LocationReferences; the eMSP
 * answers AuthorizationInfo. A station waits for this answer, so: one attempt, one deadline for
 * all eMSPs asked, and a short per-token cache. What to do when nobody answers is the caller's
 * (the token's whitelist, or the unknown-token policy): we say 'unreachable'.
 */

/**
 * An eMSP's answer. `authorizingParty`: the eMSP party whose answer it is (upper case), when we can
 * tell: it authorized the session, so its CDR names it and it pays, even for a token we never held;
 * with its Token's contract_id and type when its answer names that token (same uid), for the Session
 * and CDR of a token we do not hold (OCPI 2.2.1 13.3.5).
 */
export type RealtimeAuthorization =
  | { readonly allowed: AllowedType; readonly authorizationReference?: string; readonly authorizingParty?: AuthorizingParty }
  | 'unreachable';

/** Same shape as ocpp/translate/shared/authorization.ts RealtimeAuthorizer (ocpi/ may not import ocpp/). */
export type RealtimeTokenAuthorizer = (
  tenantId: string,
  idToken: { readonly idToken: string; readonly type: string },
  context: { readonly stationId: string; readonly evseId?: number | null },
) => Promise<RealtimeAuthorization>;

/** A station's Authorize times out after its own OCPP timeout (often 30 s); 3 s keeps us far from it. */
export const realtimeTimeoutMsDefault = 3_000;
/** An unknown token is asked of at most this many eMSPs: each costs a request while a driver waits. */
export const realtimePartnersAskedMax = 5;
export const realtimeCacheEntriesMaxDefault = 10_000;
/** Long enough to absorb Authorize followed by StartTransaction; short enough that a block bites soon. */
export const realtimeCacheTtlMsDefault = 60_000;

export interface RealtimeAuthorizerDeps {
  readonly db: SqlExecutor;
  readonly tenantId: string;
  readonly sealer: TokenSealer;
  readonly us: OcpiParty;
  readonly client?: Omit<OcpiClientOptions, 'token' | 'correlationId' | 'routing'>;
  readonly timeoutMs?: number;
  readonly cacheEntriesMax?: number;
  readonly cacheTtlMs?: number;
  readonly nowMs?: () => number;
  /** Our own failures while authorizing (answered 'unreachable'), for the log. */
  readonly onError?: (error: unknown) => void;
}

// Only `allowed`, the reference and the token's party decide anything here; the rest of
// AuthorizationInfo (their copy of the token, display text) is not worth refusing a driver over a
// field an eMSP got wrong, so the token's party is read leniently (partyOfAnswer).
const authorizationAnswer = z.object({
  allowed: z.enum(allowedTypes),
  authorization_reference: z.string().min(1).max(36).optional(),
  token: z.object({ country_code: z.unknown(), party_id: z.unknown() }).partial().loose().optional().catch(undefined),
});

interface KnownToken {
  readonly countryCode: string;
  readonly partyId: string;
  readonly tokenType: TokenType;
}

/** The party and OCPI type of a token we hold from an eMSP (read model), or null. */
async function knownToken(db: SqlExecutor, tenantId: string, uid: string): Promise<KnownToken | null> {
  const { rows } = await db.query<{ country_code: string | null; party_id: string | null; token_type: string }>(
    `SELECT country_code, party_id, token_type FROM ${liveSchemaName('tokens')}.tokens WHERE tenant_id = $1 AND token_id = $2 AND source = 'ocpi'`,
    [tenantId, uid],
  );
  const row = rows[0];
  if (row === undefined || row.country_code === null || row.party_id === null) return null;
  return { countryCode: row.country_code, partyId: row.party_id, tokenType: ocpiTokenType(row.token_type) };
}

/** One mapping for real-time authorization, Sessions and CDRs (domain/shared/token-type.ts). */
const ocpiTokenType = (type: string): TokenType => ocpiTokenTypeOf(type);

async function locationOf(db: SqlExecutor, tenantId: string, stationId: string, evseId: number | null | undefined): Promise<LocationReferences | undefined> {
  if (evseId == null) return undefined;
  // LocationReferences is optional: without a published location the eMSP decides without it.
  const evse = await findEvseByStation(db, tenantId, stationId, evseId).catch(() => null);
  return evse === null ? undefined : { location_id: evse.locationId, evse_uids: [evse.evseUid] };
}

export function createRealtimeAuthorizer(deps: RealtimeAuthorizerDeps): RealtimeTokenAuthorizer {
  const timeoutMs = deps.timeoutMs ?? realtimeTimeoutMsDefault;
  const nowMs = deps.nowMs ?? Date.now;
  const cache = new TtlLru<Exclude<RealtimeAuthorization, 'unreachable'>>(deps.cacheEntriesMax ?? realtimeCacheEntriesMaxDefault, deps.cacheTtlMs ?? realtimeCacheTtlMsDefault, nowMs);

  async function ask(
    connection: PartnerConnection,
    uid: string,
    type: TokenType,
    known: KnownToken | null,
    location: LocationReferences | undefined,
    deadlineMs: number,
  ): Promise<RealtimeAuthorization | 'unknown'> {
    const base = partnerEndpointUrl(connection, 'tokens', 'SENDER');
    const remainingMs = deadlineMs - nowMs();
    if (base === null || remainingMs <= 0) return 'unreachable';
    const routing = routingTo(connection, deps.us, 'EMSP');
    try {
      const response = await ocpiRequest(
        `${base.replace(/\/$/, '')}/${encodeURIComponent(uid)}/authorize?type=${type}`,
        { method: 'POST', data: authorizationAnswer, ...(location === undefined ? {} : { body: location }) },
        { ...deps.client, token: connection.token, timeoutMs: remainingMs, attemptsMax: 1, ...(routing ? { routing } : {}) },
      );
      const { allowed, authorization_reference: reference } = response.data;
      const party = withToldToken(partyOfAnswer(connection, response.data.token, known), response.data.token, uid);
      // A reference we could not pass on in a Session or CDR (CiString(36)) is dropped, the answer kept.
      const usable = reference !== undefined && ciIdentifier(36).safeParse(reference).success;
      return { allowed, ...(usable ? { authorizationReference: reference } : {}), ...(party === null ? {} : { authorizingParty: party }) };
    } catch (error) {
      // 2004 Unknown Token: this eMSP does not know it (another may); anything else: no answer.
      if (error instanceof OcpiClientError && error.details.statusCode === OcpiStatus.unknownToken) return 'unknown';
      return 'unreachable';
    }
  }

  async function authorize(tenantId: string, idToken: { idToken: string; type: string }, context: { stationId: string; evseId?: number | null }): Promise<RealtimeAuthorization> {
    if (tenantId !== deps.tenantId) return 'unreachable';
    // Most installations have no eMSP to ask: one read-model query and done.
    const connections = (await loadPartnerConnections(deps.db, tenantId, deps.sealer)).filter((connection) => partnerEndpointUrl(connection, 'tokens', 'SENDER') !== null);
    if (connections.length === 0) return 'unreachable';
    const known = await knownToken(deps.db, tenantId, idToken.idToken);
    const type = known?.tokenType ?? ocpiTokenType(idToken.type);
    const key = `${type}|${idToken.idToken}`;
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const deadlineMs = nowMs() + timeoutMs;
    const owners =
      known === null
        ? connections.slice(0, realtimePartnersAskedMax)
        : connections.filter((connection) => connection.roles.some((role) => role.countryCode.toUpperCase() === known.countryCode && role.partyId.toUpperCase() === known.partyId)).slice(0, 1);
    if (owners.length === 0) return 'unreachable';
    const location = await locationOf(deps.db, tenantId, context.stationId, context.evseId);
    const decision = await firstAllowed(owners.map((connection) => ask(connection, idToken.idToken, type, known, location, deadlineMs)), deadlineMs - nowMs());
    if (decision !== 'unreachable') cache.set(key, decision);
    return decision;
  }

  // A station is waiting: our own failure (read model missing, a bad row) is "no answer", never a CALLERROR.
  return (tenantId, idToken, context) =>
    authorize(tenantId, idToken, context).catch((error: unknown) => {
      deps.onError?.(error);
      return 'unreachable' as const;
    });
}

/**
 * Whose answer it is: the party of the token it answered about (AuthorizationInfo.token) when that
 * is one of the eMSP's own parties (a HUB answers for parties behind it: any well-formed one);
 * else the owner of the token we hold, whom we asked; else the eMSP's one eMSP party. null when a
 * platform of several parties names none of its own: guessing would bill the wrong party.
 */
function partyOfAnswer(connection: PartnerConnection, token: { country_code?: unknown; party_id?: unknown } | undefined, known: KnownToken | null): OcpiParty | null {
  const named = wellFormedParty(token?.country_code, token?.party_id);
  if (named !== null && isHub(connection.roles)) return named;
  const emsps = partiesOf(connection.roles.filter((role) => role.role === 'EMSP'));
  if (named !== null && emsps.some((party) => sameParty(party, named))) return named;
  if (known !== null) return { countryCode: known.countryCode, partyId: known.partyId };
  return emsps.length === 1 ? emsps[0]! : null;
}

/**
 * The answer's Token's contract_id and type, kept with its party when that Token is the one asked
 * about (same uid, case-insensitive: CiString) and both are ones a CDR can carry; else the party alone.
 */
function withToldToken(party: OcpiParty | null, token: Record<string, unknown> | undefined, uid: string): AuthorizingParty | null {
  if (party === null || typeof token?.uid !== 'string' || token.uid.toLowerCase() !== uid.toLowerCase()) return party;
  const told = authorizingPartySchema.safeParse({ ...party, contractId: token.contract_id, tokenType: token.type });
  return told.success ? told.data : party;
}

function wellFormedParty(countryCode: unknown, partyId: unknown): OcpiParty | null {
  if (typeof countryCode !== 'string' || typeof partyId !== 'string') return null;
  const party = { countryCode: countryCode.toUpperCase(), partyId: partyId.toUpperCase() };
  return /^[A-Z]{2}$/.test(party.countryCode) && /^[A-Z0-9]{3}$/.test(party.partyId) ? party : null;
}

/**
 * The first ALLOWED wins at once; otherwise, when all have answered (or the deadline passed), the
 * first definite refusal in asking order; nobody answering (or nobody knowing it) is 'unreachable'.
 */
function firstAllowed(asks: Promise<RealtimeAuthorization | 'unknown'>[], remainingMs: number): Promise<RealtimeAuthorization> {
  return new Promise((resolve) => {
    const answers: (RealtimeAuthorization | 'unknown' | undefined)[] = asks.map(() => undefined);
    let settled = 0;
    const conclude = () => {
      clearTimeout(timer);
      const refusal = answers.find((answer): answer is Exclude<RealtimeAuthorization, 'unreachable'> => typeof answer === 'object');
      resolve(refusal ?? 'unreachable');
    };
    const timer = setTimeout(conclude, Math.max(0, remainingMs));
    asks.forEach((pending, index) => {
      void pending.then((answer) => {
        answers[index] = answer;
        settled += 1;
        if (typeof answer === 'object' && answer.allowed === 'ALLOWED') {
          clearTimeout(timer);
          resolve(answer);
        } else if (settled === asks.length) conclude();
      });
    });
  });
}
