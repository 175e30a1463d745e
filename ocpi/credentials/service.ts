import { randomUUID } from 'node:crypto';
import type { Clock } from '../../adapters/clock/clock.js';
import type { CommandBus } from '../../commands/index.js';
import type { PartnerCommand, PartnerConnection } from '../../domain/partner/commands.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import { OcpiClientError, ocpiRequest, type OcpiClientOptions } from '../client/client.js';
import { credentialsTokenHash, newCredentialsToken } from '../transport/auth.js';
import type { OcpiCaller } from '../transport/route.js';
import { methodNotAllowed, OcpiError, OcpiStatus } from '../transport/status.js';
import type { PartnerDirectory } from './directory.js';
import { fetchPartnerVersion, type PartnerVersion } from './handshake.js';
import { credentialsSchema, type Credentials, type CredentialsRole } from './schemas.js';
import type { TokenSealer } from './seal.js';

/**
 * The credentials module's work in both directions (spec chapter 7), as commands to the partner
 * aggregate. Token letters follow the spec's registration story: the Receiver issues A, the
 * Sender sends B in its POST, the Receiver answers with C.
 *   they register with us: A (ours, they present) → B (theirs, we present) → C (ours, they present)
 *   we register with them: A (theirs, we present, never stored) → B (ours, they present) → C (theirs, we present)
 */

export interface CredentialsDeps {
  readonly bus: CommandBus;
  readonly clock: Clock;
  readonly tenantId: string;
  readonly sealer: TokenSealer;
  readonly directory: PartnerDirectory;
  /** Our roles as sent in every Credentials object. */
  readonly roles: readonly CredentialsRole[];
  /** Timeouts, retries, fetch for calls to partners (tests shorten them). */
  readonly client?: Omit<OcpiClientOptions, 'token' | 'correlationId' | 'routing'>;
}

/** Partner ids are stream ids chosen by the operator: short and plain. */
export const partnerIdPattern = /^[A-Za-z0-9_.]{1,64}$/;

export function checkPartnerId(partnerId: string): string {
  if (!partnerIdPattern.test(partnerId)) throw new InvalidCommandError(`partner id must be 1 to 64 letters, digits, '_' or '.': ${partnerId}`);
  return partnerId;
}

export function ourCredentials(deps: Pick<CredentialsDeps, 'roles'>, token: string, ourVersionsUrl: string): Credentials {
  return { token, url: ourVersionsUrl, roles: deps.roles.map((role) => ({ ...role })) };
}

/** A token issued while the handshake is under way: versions and credentials only, no parties yet. */
const registering = { registered: false, roles: [] } as const;

/** What the directory keeps of a registration for its token: its parties, at once (no read model lag). */
const registeredAs = (connection: PartnerConnection) => ({
  registered: true,
  roles: connection.roles.map((role) => ({ role: role.role, countryCode: role.countryCode, partyId: role.partyId })),
});

function connectionOf(version: PartnerVersion, roles: readonly CredentialsRole[], versionsUrl: string): PartnerConnection {
  return {
    roles: roles.map((role) => ({
      role: role.role,
      countryCode: role.country_code.toUpperCase(),
      partyId: role.party_id.toUpperCase(),
      businessDetails: role.business_details,
    })),
    version: version.version,
    versionsUrl,
    endpoints: version.details.endpoints,
  };
}

async function send(deps: CredentialsDeps, partnerId: string, command: PartnerCommand, correlationId: string, actor: string): Promise<void> {
  await deps.bus.send({
    commandId: `ocpi:${command.type}:${randomUUID()}`,
    tenantId: deps.tenantId,
    aggregateId: partnerId,
    actor,
    correlationId,
    occurredAt: deps.clock.now().toISOString(),
    command,
  });
}

/** Token A for a partner that will register with us; shown once, only its hash is kept. */
export async function invitePartner(deps: CredentialsDeps, partnerId: string, actor: string): Promise<{ partnerId: string; token: string }> {
  const token = newCredentialsToken();
  await send(deps, checkPartnerId(partnerId), { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(token) } }, randomUUID(), actor);
  deps.directory.remember(token, partnerId, registering);
  return { partnerId, token };
}

const asNotAllowed = (error: unknown): never => {
  // Spec 7.2.2–7.2.4: POST when registered, PUT/DELETE when not: HTTP 405.
  if (error instanceof IllegalStateError) throw methodNotAllowed(error.message);
  throw error;
};

/** POST credentials: they register with us using token A. */
export async function acceptRegistration(deps: CredentialsDeps, caller: OcpiCaller, body: Credentials, ourVersionsUrl: string, correlationId: string): Promise<Credentials> {
  if (caller.registered) throw methodNotAllowed('already registered: use PUT to update the credentials, or DELETE to unregister');
  const client = { ...deps.client, token: body.token, correlationId };
  const version = await fetchPartnerVersion(body.url, client);
  const tokenC = newCredentialsToken();
  const connection = connectionOf(version, body.roles, body.url);
  await send(
    deps,
    caller.partnerId,
    {
      type: 'RegisterPartner',
      initiatedBy: 'partner',
      connection,
      tokenWePresent: { token: 'B', tokenSealed: deps.sealer.seal(body.token) },
      tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(tokenC) },
    },
    correlationId,
    `partner:${caller.partnerId}`,
  ).catch(asNotAllowed);
  deps.directory.remember(tokenC, caller.partnerId, registeredAs(connection));
  // Token A is void once C is returned (spec 7.1.1).
  deps.directory.revokeHash(credentialsTokenHash(caller.token));
  return ourCredentials(deps, tokenC, ourVersionsUrl);
}

/** PUT credentials: new token B and/or version switch; they get a fresh C. */
export async function acceptUpdate(deps: CredentialsDeps, caller: OcpiCaller, body: Credentials, ourVersionsUrl: string, correlationId: string): Promise<Credentials> {
  if (!caller.registered) throw methodNotAllowed('not registered: POST the credentials first');
  const version = await fetchPartnerVersion(body.url, { ...deps.client, token: body.token, correlationId });
  const tokenC = newCredentialsToken();
  const connection = connectionOf(version, body.roles, body.url);
  await send(
    deps,
    caller.partnerId,
    {
      type: 'UpdatePartner',
      connection,
      tokenWePresent: { token: 'B', tokenSealed: deps.sealer.seal(body.token) },
      tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(tokenC) },
    },
    correlationId,
    `partner:${caller.partnerId}`,
  ).catch(asNotAllowed);
  deps.directory.remember(tokenC, caller.partnerId, registeredAs(connection));
  deps.directory.revokeHash(credentialsTokenHash(caller.token));
  return ourCredentials(deps, tokenC, ourVersionsUrl);
}

/** DELETE credentials: they unregister; every token of theirs stops working. */
export async function acceptUnregistration(deps: CredentialsDeps, caller: OcpiCaller, correlationId: string): Promise<void> {
  if (!caller.registered) throw methodNotAllowed('not registered');
  await send(deps, caller.partnerId, { type: 'UnregisterPartner', initiatedBy: 'partner', reason: 'DELETE credentials' }, correlationId, `partner:${caller.partnerId}`).catch(
    asNotAllowed,
  );
  deps.directory.revokeHash(credentialsTokenHash(caller.token));
}

export interface RegisterWithPartnerRequest {
  readonly partnerId: string;
  /** Their versions endpoint. */
  readonly versionsUrl: string;
  /** Their token A, given to us out of band; used for this handshake only, never stored. */
  readonly tokenA: string;
  /** Our versions endpoint, as they can reach it. */
  readonly ourVersionsUrl: string;
  readonly actor: string;
}

export interface RegisterWithPartnerOutcome {
  readonly partnerId: string;
  readonly version: string;
  readonly roles: readonly CredentialsRole[];
  readonly endpoints: number;
}

/** We are the Sender: read their versions with A, POST our credentials with a new B, keep their C. */
export async function registerWithPartner(deps: CredentialsDeps, request: RegisterWithPartnerRequest): Promise<RegisterWithPartnerOutcome> {
  const partnerId = checkPartnerId(request.partnerId);
  const correlationId = randomUUID();
  const version = await fetchPartnerVersion(request.versionsUrl, { ...deps.client, token: request.tokenA, correlationId });
  const credentialsUrl = version.details.endpoints.find((endpoint) => endpoint.identifier === 'credentials')!.url;
  const tokenB = newCredentialsToken();
  // Issued before the POST: they call our versions with B while our POST is still open.
  await send(deps, partnerId, { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'B', tokenHash: credentialsTokenHash(tokenB) } }, correlationId, request.actor);
  deps.directory.remember(tokenB, partnerId, registering);
  let theirs: Credentials;
  try {
    const response = await ocpiRequest(
      credentialsUrl,
      { method: 'POST', body: ourCredentials(deps, tokenB, request.ourVersionsUrl), data: credentialsSchema },
      // A POST that reached them must not be repeated blindly (a second one is a 405): no retries.
      { ...deps.client, token: request.tokenA, correlationId, attemptsMax: 1 },
    );
    theirs = response.data;
  } catch (error) {
    if (error instanceof OcpiClientError) throw new OcpiError(error.details.statusCode ?? OcpiStatus.unableToUseClientApi, `registration refused: ${error.message}`);
    throw error;
  }
  const connection = connectionOf(version, theirs.roles, theirs.url);
  await send(
    deps,
    partnerId,
    {
      type: 'RegisterPartner',
      initiatedBy: 'us',
      connection,
      tokenWePresent: { token: 'C', tokenSealed: deps.sealer.seal(theirs.token) },
      tokenTheyPresent: { token: 'B', tokenHash: credentialsTokenHash(tokenB) },
    },
    correlationId,
    request.actor,
  );
  deps.directory.remember(tokenB, partnerId, registeredAs(connection));
  return { partnerId, version: version.version, roles: theirs.roles, endpoints: version.details.endpoints.length };
}
