import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { invariant } from '../../domain/shared/assert.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import type { OcpiModule, OcpiModuleContext } from '../plugin.js';
import { countryCodeSchema, ciIdentifier, partyIdSchema } from '../schemas/primitives.js';
import { tokenPatchSchema, tokenSchema, tokenTypes } from '../schemas/tokens.js';
import { isHub, partyLabel, sameParty, type OcpiParty } from '../transport/headers.js';
import { ocpiRoute, type OcpiRequestContext } from '../transport/route.js';
import { OcpiError, OcpiStatus, invalidParameters } from '../transport/status.js';
import { checkUrlMatchesBody, parseOcpi } from '../transport/validate.js';
import { ocpiVersion } from '../versions/registry.js';
import { patchToken, readTokenFromStream, writeToken, type TokenWriteMeta } from './store.js';

/**
 * Tokens module, Receiver interface of the CPO (mod_tokens "Receiver Interface"): eMSPs push their
 * tokens (PUT, PATCH) and read our copy back (GET) at
 * /2.2.1/tokens/{country_code}/{party_id}/{token_uid}[?type=RFID].
 */

export const tokensModulePath = `/${ocpiVersion}/tokens`;

const pathParams = z.object({ country_code: countryCodeSchema, party_id: partyIdSchema, token_uid: ciIdentifier(36) });
// mod_tokens Receiver GET/PUT/PATCH: `type` is optional and means RFID when absent.
const typeQuery = z.object({ type: z.enum(tokenTypes).default('RFID') });

/**
 * transport_and_format / status_codes: a request for a resource that does not exist answers HTTP
 * 404; in the body 2004 "Unknown Token" (status_codes: "Unknown Token"), the code for this object.
 */
const unknownToken = (uid: string) => new OcpiError(OcpiStatus.unknownToken, `unknown token ${uid}`, { httpStatus: 404 });

/** Refusals of a partner writing or reading another party's tokens, for metrics (docs/design.md: every denial counted). */
export const ocpiTokensDenials = { otherParty: 0 };

/**
 * A Receiver stores Client Owned Objects under the party that owns them (transport_and_format
 * "Client Owned Object Push"): a partner writes and reads the tokens of the party it sends as
 * (the request's sender party: its routing headers, or on a direct link the one party of its
 * credentials); a HUB speaks for the parties behind it, and a Broadcast Push through a hub keeps
 * the original party in the URL.
 */
function checkSenderOwnsParty(context: OcpiRequestContext, party: OcpiParty): void {
  const sender = context.routing!.from;
  if (isHub(context.caller.roles) || sameParty(sender, party)) return;
  ocpiTokensDenials.otherParty += 1;
  // status_codes 2001 for parameters the server cannot accept; HTTP 200 as the request reached OCPI.
  throw invalidParameters(`party ${partyLabel(party)} in the URL is not the party you send as (${partyLabel(sender)})`);
}

interface Target {
  readonly countryCode: string;
  readonly partyId: string;
  readonly uid: string;
  readonly type: (typeof tokenTypes)[number];
}

function targetOf(request: FastifyRequest, context: OcpiRequestContext): Target {
  const params = parseOcpi(pathParams, request.params, 'path');
  const { type } = parseOcpi(typeQuery, { type: (request.query as Record<string, unknown> | undefined)?.type }, 'query');
  const target = { countryCode: params.country_code.toUpperCase(), partyId: params.party_id.toUpperCase(), uid: params.token_uid, type };
  checkSenderOwnsParty(context, target);
  return target;
}

const writeMeta = (ocpi: OcpiModuleContext, context: OcpiRequestContext): TokenWriteMeta => ({
  tenantId: ocpi.tenantId,
  partnerId: context.caller.partnerId,
  correlationId: context.ids.correlationId,
  commandIdPrefix: `ocpi:tokens:${context.caller.partnerId}:${context.ids.requestId}`,
});

/** Domain refusals in OCPI words: facts we cannot take are 2001, a PATCH of a token we lack 2004/404. */
async function asOcpi<T>(uid: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidCommandError) throw invalidParameters(error.message);
    if (error instanceof IllegalStateError && /not issued/.test(error.message)) throw unknownToken(uid);
    throw error;
  }
}

export const tokensModule: OcpiModule = (ocpi) => {
  const { app, transport, registry, eventReader } = ocpi;
  // GET answers from the token's stream: what a PUT/PATCH just answered, on any node (store.ts).
  invariant(eventReader !== null, 'the tokens module reads token streams: the OCPI plugin needs an eventReader');
  registry.add(ocpiVersion, { identifier: 'tokens', role: 'RECEIVER', path: tokensModulePath });
  const url = `${tokensModulePath}/:country_code/:party_id/:token_uid`;

  ocpiRoute(app, transport, {
    method: 'GET',
    url,
    module: 'tokens',
    async handler(request, _reply, context) {
      const target = targetOf(request, context);
      const token = await readTokenFromStream(eventReader, ocpi.tenantId, target);
      if (token === null) throw unknownToken(target.uid);
      return { data: token };
    },
  });

  ocpiRoute(app, transport, {
    method: 'PUT',
    url,
    module: 'tokens',
    async handler(request, _reply, context) {
      const target = targetOf(request, context);
      const token = parseOcpi(tokenSchema, request.body, 'Token');
      checkUrlMatchesBody([
        { name: 'country_code', url: target.countryCode, body: token.country_code, caseInsensitive: true },
        { name: 'party_id', url: target.partyId, body: token.party_id, caseInsensitive: true },
        { name: 'uid', url: target.uid, body: token.uid },
        { name: 'type', url: target.type, body: token.type },
      ]);
      const outcome = await asOcpi(target.uid, () => writeToken(ocpi.bus, writeMeta(ocpi, context), token));
      // status_codes: 201 when the object is newly created, 200 when it existed and was updated.
      return { httpStatus: outcome.created ? 201 : 200 };
    },
  });

  ocpiRoute(app, transport, {
    method: 'PATCH',
    url,
    module: 'tokens',
    async handler(request, _reply, context) {
      const target = targetOf(request, context);
      const patch = parseOcpi(tokenPatchSchema, request.body, 'Token (PATCH)');
      checkUrlMatchesBody([
        { name: 'country_code', url: target.countryCode, body: patch.country_code, caseInsensitive: true },
        { name: 'party_id', url: target.partyId, body: patch.party_id, caseInsensitive: true },
        { name: 'uid', url: target.uid, body: patch.uid },
      ]);
      await asOcpi(target.uid, () => patchToken(ocpi.bus, writeMeta(ocpi, context), target, patch));
      return {};
    },
  });
};
