import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { isoTimestamp } from '../shared/values.js';

/**
 * Events of the `partner` aggregate (stream `partner-<tenant>-<partnerId>`): one OCPI platform we
 * roam with, its roles, the version and endpoints we use to call it, and the credentials tokens.
 *
 * Tokens (docs/design.md "credentials (stored as hashes)"):
 * - a token the partner presents to us (A, then C when they registered with us; B when we
 *   registered with them) is kept only as its SHA-256 hash: enough to recognise it, useless to
 *   a reader of the events;
 * - the token we present to them (B when they registered with us; C when we registered with
 *   them) must stay usable, so it is kept sealed: AES-256-GCM under OCPI_SECRET (ocpi/credentials/
 *   seal.ts). Without a configured secret it is kept as-is, marked `plain:`, and the server warns
 *   at start; events are immutable, so a deployment should set the secret before its first partner.
 */

export const partnerAggregateType = 'partner';

export const ocpiRoles = ['CPO', 'EMSP', 'HUB', 'NAP', 'NSP', 'OTHER', 'SCSP'] as const;
export const interfaceRoles = ['SENDER', 'RECEIVER'] as const;
export type OcpiRole = (typeof ocpiRoles)[number];
export const credentialsTokenLetters = ['A', 'B', 'C'] as const;
/** OCPI ConnectionStatus of a party at a hub (hubclientinfo). */
export const clientInfoStatuses = ['CONNECTED', 'OFFLINE', 'PLANNED', 'SUSPENDED'] as const;
export type ClientInfoStatus = (typeof clientInfoStatuses)[number];
export type CredentialsTokenLetter = (typeof credentialsTokenLetters)[number];

export const partnerRoleSchema = z.object({
  role: z.enum(ocpiRoles),
  countryCode: z.string().regex(/^[A-Z]{2}$/),
  partyId: z.string().regex(/^[A-Z0-9]{3}$/),
  /** OCPI BusinessDetails as the partner sent it (name, website?, logo?). */
  businessDetails: z.object({ name: z.string().min(1).max(100) }).catchall(z.unknown()),
});
export type PartnerRole = z.infer<typeof partnerRoleSchema>;

export const partnerEndpointSchema = z.object({
  identifier: z.string().min(1).max(50),
  role: z.enum(interfaceRoles),
  url: z.string().url().max(2048),
});
export type PartnerEndpoint = z.infer<typeof partnerEndpointSchema>;

const connection = {
  roles: z.array(partnerRoleSchema).min(1).max(50),
  /** The OCPI version both sides use, e.g. "2.2.1". */
  version: z.string().min(1).max(10),
  versionsUrl: z.string().url().max(2048),
  endpoints: z.array(partnerEndpointSchema).max(100),
};

export const PartnerRegistered = defineEvent({
  type: 'PartnerRegistered',
  aggregateType: partnerAggregateType,
  schemaVersion: 1,
  schema: z.object({
    ...connection,
    /** 'partner': they POSTed their credentials to us; 'us': we POSTed ours to them. */
    initiatedBy: z.enum(['partner', 'us']),
  }),
});

export const CredentialsTokenIssued = defineEvent({
  type: 'CredentialsTokenIssued',
  aggregateType: partnerAggregateType,
  schemaVersion: 1,
  schema: z.discriminatedUnion('presentedBy', [
    z.object({ token: z.enum(credentialsTokenLetters), presentedBy: z.literal('partner'), tokenHash: z.string().regex(/^[0-9a-f]{64}$/) }),
    z.object({ token: z.enum(credentialsTokenLetters), presentedBy: z.literal('us'), tokenSealed: z.string().min(1).max(1024) }),
  ]),
});

export const PartnerUpdated = defineEvent({
  type: 'PartnerUpdated',
  aggregateType: partnerAggregateType,
  schemaVersion: 1,
  schema: z.object(connection),
});

export const PartnerUnregistered = defineEvent({
  type: 'PartnerUnregistered',
  aggregateType: partnerAggregateType,
  schemaVersion: 1,
  schema: z.object({ initiatedBy: z.enum(['partner', 'us']), reason: z.string().min(1).max(500) }),
});

/** A hub partner reported the connection status of a party connected to it (OCPI hubclientinfo). */
export const ClientInfoReported = defineEvent({
  type: 'ClientInfoReported',
  aggregateType: partnerAggregateType,
  schemaVersion: 1,
  schema: z.object({
    countryCode: z.string().regex(/^[A-Z]{2}$/),
    partyId: z.string().regex(/^[A-Z0-9]{3}$/),
    role: z.enum(ocpiRoles),
    status: z.enum(clientInfoStatuses),
    lastUpdated: isoTimestamp,
  }),
});

export const partnerEventDefinitions = [PartnerRegistered, CredentialsTokenIssued, PartnerUpdated, PartnerUnregistered, ClientInfoReported] as const;
export type PartnerEvent = EventOf<(typeof partnerEventDefinitions)[number]>;
