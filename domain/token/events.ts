import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { isoTimestamp } from '../shared/values.js';

/**
 * Events of the `token` aggregate (stream `token-<tenant>-<id>`; the caller picks the id, e.g. the
 * OCPI party and uid). RFID cards, app users and ad-hoc payments alike.
 */

export const tokenAggregateType = 'token';

/** OCPP 2.0.1 IdTokenEnumType plus OCPI 2.2.1 TokenType. */
export const tokenTypes = [
  'Central',
  'eMAID',
  'ISO14443',
  'ISO15693',
  'KeyCode',
  'Local',
  'MacAddress',
  'NoAuthorization',
  'RFID',
  'AD_HOC_USER',
  'APP_USER',
  'OTHER',
] as const;
export type TokenType = (typeof tokenTypes)[number];

/** OCPI 2.2.1 WhitelistType. */
export const whitelistTypes = ['ALWAYS', 'ALLOWED', 'ALLOWED_OFFLINE', 'NEVER'] as const;
export type WhitelistType = (typeof whitelistTypes)[number];

export const tokenSources = ['local', 'ocpi'] as const;
export type TokenSource = (typeof tokenSources)[number];

const tokenFacts = z.object({
  uid: z.string().min(1).max(36),
  tokenType: z.enum(tokenTypes),
  contractId: z.string().min(1).max(36),
  /** Issuing company (OCPI issuer) or, for local tokens, the operator. */
  issuer: z.string().min(1).max(64),
  ownerId: z.string().max(255).nullable(),
  visualNumber: z.string().max(64).nullable(),
  validUntil: isoTimestamp.nullable(),
  whitelist: z.enum(whitelistTypes),
  source: z.enum(tokenSources),
  groupId: z.string().max(36).nullable(),
  // Optional (absent in events stored before OCPI tokens): an absent key reads as "not known".
  /** The eMSP party that issued an OCPI token (OCPI Token country_code/party_id, upper case); CDRs and sessions name it. */
  countryCode: z.string().regex(/^[A-Z]{2}$/).optional(),
  partyId: z.string().regex(/^[A-Z0-9]{3}$/).optional(),
  /** OCPI Token language (ISO 639-1), default_profile_type and energy_contract, kept to answer GET as received. */
  language: z.string().length(2).optional(),
  defaultProfileType: z.string().min(1).max(20).optional(),
  energyContract: z.object({ supplierName: z.string().min(1).max(64), contractId: z.string().min(1).max(64).optional() }).optional(),
});
export type TokenFacts = z.infer<typeof tokenFacts>;

export const TokenIssued = defineEvent({ type: 'TokenIssued', aggregateType: tokenAggregateType, schemaVersion: 1, schema: tokenFacts });

/** New facts for an issued token (OCPI PUT/PATCH): the whole new set, same shape as TokenIssued. */
export const TokenUpdated = defineEvent({ type: 'TokenUpdated', aggregateType: tokenAggregateType, schemaVersion: 1, schema: tokenFacts });

export const TokenBlocked = defineEvent({
  type: 'TokenBlocked',
  aggregateType: tokenAggregateType,
  schemaVersion: 1,
  schema: z.object({ reason: z.string().min(1).max(500) }),
});

export const TokenUnblocked = defineEvent({
  type: 'TokenUnblocked',
  aggregateType: tokenAggregateType,
  schemaVersion: 1,
  schema: z.object({}),
});

export const TokenExpired = defineEvent({
  type: 'TokenExpired',
  aggregateType: tokenAggregateType,
  schemaVersion: 1,
  schema: z.object({ expiredAt: isoTimestamp }),
});

export const tokenEventDefinitions = [TokenIssued, TokenUpdated, TokenBlocked, TokenUnblocked, TokenExpired] as const;

export type TokenEvent = EventOf<(typeof tokenEventDefinitions)[number]>;
export type TokenEventType = TokenEvent['type'];
