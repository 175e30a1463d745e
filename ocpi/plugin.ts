import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../adapters/clock/clock.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import type { CommandBus } from '../commands/index.js';
import { cpoPartyDefault } from '../commands/process/billing-config.js';
import type { OcpiClientOptions } from './client/client.js';
import { createPartnerDirectory, type PartnerDirectory } from './credentials/directory.js';
import { registerCredentialsRoutes } from './credentials/routes.js';
import type { CredentialsRole } from './credentials/schemas.js';
import { createTokenSealer, type TokenSealer } from './credentials/seal.js';
import type { CredentialsDeps } from './credentials/service.js';
import type { OcpiEventReader, OcpiStationCommands } from './ports.js';
import { echoMessageIds, messageIdsOf, partiesOf, type OcpiParty } from './transport/headers.js';
import { installOcpiTransport, type OcpiTransport } from './transport/route.js';
import { ocpiFailure, OcpiStatus } from './transport/status.js';
import { createVersionRegistry, type VersionRegistry } from './versions/registry.js';
import { registerVersionRoutes } from './versions/routes.js';

/**
 * The OCPI 2.2.1 surface (mounted at /ocpi): transport rules for every route, the versions and
 * credentials modules, and a hook for the functional modules (`modules`), which add their
 * routes and list themselves in the version registry.
 */

export interface OcpiSettings {
  /** Scheme and host partners reach us at, e.g. https://csms.example.com; null: from each request. */
  readonly publicUrl: string | null;
  /** Seals the tokens we present to partners (credentials/seal.ts); null keeps them as-is. */
  readonly secret: string | null;
  /** Our roles in every Credentials object. */
  readonly roles: readonly CredentialsRole[];
}

/** Without configuration (tests, buildServer without `ocpi`); `csms serve` passes api/config.ts's Config.ocpi. */
export const ocpiSettingsDefault: OcpiSettings = {
  publicUrl: null,
  secret: null,
  roles: [{ role: 'CPO', country_code: cpoPartyDefault.countryCode, party_id: cpoPartyDefault.partyId, business_details: { name: 'Open-CSMS' } }],
};

/** What a functional module gets to add its routes (ocpi/modules/index.ts lists the modules). */
export interface OcpiModuleContext {
  readonly app: FastifyInstance;
  readonly transport: OcpiTransport;
  readonly registry: VersionRegistry;
  readonly credentials: CredentialsDeps;
  /** Absolute URL of the OCPI surface, e.g. https://csms.example.com/ocpi. */
  readonly baseUrl: (request: { protocol: string; host: string }) => string;
  /** Read models (never the event store). */
  readonly db: SqlExecutor;
  readonly bus: CommandBus;
  readonly clock: Clock;
  readonly tenantId: string;
  /** Our CPO party: the first CPO role of the settings (country code and party id of our objects). */
  readonly us: OcpiParty;
  readonly sealer: TokenSealer;
  /** Remote commands to stations; null where no OCPP gateway runs (tests of OCPI alone). */
  readonly stationCommands: OcpiStationCommands | null;
  /** Command-side stream reads (e.g. a token's state); null in tests of OCPI alone. */
  readonly eventReader: OcpiEventReader | null;
  /** Timeouts and fetch for calls to partners (tests shorten them). */
  readonly client: Omit<OcpiClientOptions, 'token' | 'correlationId' | 'routing'>;
}
export type OcpiModule = (context: OcpiModuleContext) => void;

export interface OcpiPluginOptions {
  readonly db: SqlExecutor;
  readonly bus: CommandBus;
  readonly clock: Clock;
  readonly tenantId: string;
  readonly settings: OcpiSettings;
  readonly modules?: readonly OcpiModule[];
  /** For calls to partners (tests shorten timeouts). */
  readonly client?: Omit<OcpiClientOptions, 'token' | 'correlationId' | 'routing'>;
  readonly stationCommands?: OcpiStationCommands | null;
  readonly eventReader?: OcpiEventReader | null;
}

/** Our CPO party from the configured roles (the first CPO role, else the first role). */
export function ourParty(settings: OcpiSettings): OcpiParty {
  const role = settings.roles.find((candidate) => candidate.role === 'CPO') ?? settings.roles[0];
  if (role === undefined) throw new Error('OCPI settings need at least one role');
  return { countryCode: role.country_code.toUpperCase(), partyId: role.party_id.toUpperCase() };
}

/** Every party of our configured roles: the parties a partner's request may be routed to. */
export function ourParties(settings: OcpiSettings): OcpiParty[] {
  return partiesOf(settings.roles.map((role) => ({ countryCode: role.country_code, partyId: role.party_id })));
}

declare module 'fastify' {
  interface FastifyInstance {
    ocpiPartners?: PartnerDirectory;
    ocpiCredentials?: CredentialsDeps;
  }
}

export const ocpiPlugin: FastifyPluginAsync<OcpiPluginOptions> = async (app, options) => {
  const directory = createPartnerDirectory(options.db, options.tenantId, { events: options.eventReader ?? null });
  const sealer = createTokenSealer(options.settings.secret);
  if (!sealer.encrypts) app.log.warn('OCPI_SECRET is not set: tokens we present to OCPI partners are stored unencrypted');
  const transport: OcpiTransport = { authenticator: directory, clock: options.clock, us: ourParties(options.settings) };
  const registry = createVersionRegistry();
  const prefix = app.prefix;
  const baseUrl = (request: { protocol: string; host: string }) => `${options.settings.publicUrl ?? `${request.protocol}://${request.host}`}${prefix}`;
  const credentials: CredentialsDeps = {
    bus: options.bus,
    clock: options.clock,
    tenantId: options.tenantId,
    sealer,
    directory,
    roles: options.settings.roles,
    ...(options.client ? { client: options.client } : {}),
  };
  installOcpiTransport(app, transport);
  registerVersionRoutes(app, transport, registry, baseUrl);
  registerCredentialsRoutes(app, transport, registry, credentials, (request) => `${baseUrl(request)}/versions`);
  const context: OcpiModuleContext = {
    app,
    transport,
    registry,
    credentials,
    baseUrl,
    db: options.db,
    bus: options.bus,
    clock: options.clock,
    tenantId: options.tenantId,
    us: ourParty(options.settings),
    sealer,
    stationCommands: options.stationCommands ?? null,
    eventReader: options.eventReader ?? null,
    client: options.client ?? {},
  };
  for (const module of options.modules ?? []) module(context);
  // Inside the encapsulated OCPI context: its modules share one directory and sealer.
  app.decorate('ocpiPartners', directory);
  app.decorate('ocpiCredentials', credentials);
};

/** Longest piece of a refused URL quoted back in a status message. */
const urlQuotedCharsMax = 80;

/**
 * Errors fastify's router raises before any route or plugin exists for the request (fastify's
 * `frameworkErrors` server option), so the OCPI error handler never sees them: a path parameter
 * over the router's `maxParamLength`, a malformed percent-encoding. The server hands those under
 * /ocpi here, to be answered like every other OCPI client error: an envelope with a timestamp and
 * the message ids. An over-long parameter is 2001 with HTTP 400, not fastify's bare 414: no OCPI
 * id is longer than 39 characters, so it is an invalid parameter, and 414 (URI Too Long) would
 * blame the length of a URL that is well within limits.
 */
export function answerOcpiFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply, limits: { readonly now: Date; readonly paramLengthMax: number }): FastifyReply {
  echoMessageIds(reply, messageIdsOf(request));
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.code(400).send(ocpiFailure(OcpiStatus.invalidOrMissingParameters, `a path parameter is longer than ${limits.paramLengthMax} characters`, limits.now));
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    const path = request.url.split('?')[0]!.slice(0, urlQuotedCharsMax);
    return reply.code(400).send(ocpiFailure(OcpiStatus.invalidOrMissingParameters, `malformed URL ${path}: not valid percent-encoding`, limits.now));
  }
  request.log.error({ err: error }, 'ocpi request failed before routing');
  return reply.code(500).send(ocpiFailure(OcpiStatus.serverError, 'internal error; see the server log', limits.now));
}
