import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Clock } from '../adapters/clock/clock.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import type { CommandBus } from '../commands/index.js';
import type { OcpiClientOptions } from './client/client.js';
import { createPartnerDirectory, type PartnerDirectory } from './credentials/directory.js';
import { registerCredentialsRoutes } from './credentials/routes.js';
import type { CredentialsRole } from './credentials/schemas.js';
import { createTokenSealer, type TokenSealer } from './credentials/seal.js';
import type { CredentialsDeps } from './credentials/service.js';
import type { OcpiEventReader, OcpiStationCommands } from './ports.js';
import type { OcpiParty } from './transport/headers.js';
import { installOcpiTransport, type OcpiTransport } from './transport/route.js';
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
  roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS' } }],
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

declare module 'fastify' {
  interface FastifyInstance {
    ocpiPartners?: PartnerDirectory;
    ocpiCredentials?: CredentialsDeps;
  }
}

export const ocpiPlugin: FastifyPluginAsync<OcpiPluginOptions> = async (app, options) => {
  const directory = createPartnerDirectory(options.db, options.tenantId);
  const sealer = createTokenSealer(options.settings.secret);
  if (!sealer.encrypts) app.log.warn('OCPI_SECRET is not set: tokens we present to OCPI partners are stored unencrypted');
  const transport: OcpiTransport = { authenticator: directory, clock: options.clock };
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
