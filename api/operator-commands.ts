import { randomUUID } from 'node:crypto';
import type { Clock } from '../adapters/clock/clock.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import type { CommandBus } from '../commands/index.js';
import { assertNever } from '../domain/shared/assert.js';
import { IllegalStateError, InvalidCommandError } from '../domain/shared/errors.js';
import type { SecurityProfile } from '../domain/station/events.js';
import { tokenTypes, whitelistTypes, type TokenType, type WhitelistType } from '../domain/token/events.js';
import { hashStationPassword, stationPasswordProblem } from './station-auth.js';

/**
 * What an operator may do to stations and tokens, as commands on the bus. The CLI (directly on
 * the database) and the REST endpoints (when the CLI finds the embedded database held by the
 * server) both call these, so the two paths record the same events.
 */

export interface OperatorDeps {
  readonly bus: CommandBus;
  readonly clock: Clock;
  readonly tenantId: string;
  /** e.g. `user:alice` (CLI: the OS user) or `user:admin-api`. */
  readonly actor: string;
}

function envelope(deps: OperatorDeps, aggregateId: string, command: Parameters<CommandBus['send']>[0]['command']) {
  const id = randomUUID();
  return {
    // A new id per operator action: the deciders make a repeated action a no-op by state.
    commandId: `operator:${command.type}:${id}`,
    tenantId: deps.tenantId,
    aggregateId,
    actor: deps.actor,
    correlationId: id,
    occurredAt: deps.clock.now().toISOString(),
    command,
  };
}

export interface RegisterStationRequest {
  readonly stationId: string;
  readonly password?: string | undefined;
  /** Default: 1 with a password; without a password it must be given (0 or 3), never guessed. */
  readonly securityProfile?: number | undefined;
  /** Register even when the profile cannot work with `StationSecurityConfig` (a server configured otherwise). */
  readonly force?: boolean | undefined;
}

export interface RegisterStationOutcome {
  readonly stationId: string;
  readonly securityProfile: SecurityProfile;
  /** 'registered' the first time; 'securityChanged' when it was registered before (a new password, profile). */
  readonly outcome: 'registered' | 'securityChanged';
}

/**
 * What the server stations connect to can authenticate (api/station-auth.ts): profile 0 only with
 * OCPP_ALLOW_UNSECURED, 2 only over TLS, 3 only with client certificates (TLS_CA_FILE).
 */
export interface StationSecurityConfig {
  readonly allowUnsecured: boolean;
  /** TLS_CERT_FILE and TLS_KEY_FILE are set: wss:// is served. */
  readonly tls: boolean;
  /** TLS_CA_FILE is set too: client certificates are requested and verified. */
  readonly clientCertificates: boolean;
}

export function stationSecurityConfigOf(config: { ocpp: { allowUnsecured: boolean }; tls: { caFile: string | null } | null }): StationSecurityConfig {
  return { allowUnsecured: config.ocpp.allowUnsecured, tls: config.tls !== null, clientCertificates: config.tls?.caFile != null };
}

/**
 * Why a station registered with `profile` could never connect to a server so configured, naming
 * the setting to change; null when it can. Registering it anyway would succeed silently and the
 * station would then be refused at every connection attempt.
 */
export function securityProfileProblem(profile: SecurityProfile, server: StationSecurityConfig): string | null {
  switch (profile) {
    case 0:
      return server.allowUnsecured
        ? null
        : 'security profile 0 (no credentials) is refused while OCPP_ALLOW_UNSECURED is not true: set OCPP_ALLOW_UNSECURED=true on the server, or give the station a password (profile 1)';
    case 1:
      return null;
    case 2:
      return server.tls ? null : 'security profile 2 needs TLS: set TLS_CERT_FILE and TLS_KEY_FILE on the server, or use profile 1';
    case 3:
      if (!server.tls) return 'security profile 3 needs TLS with client certificates: set TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE on the server, or use a password (profile 1)';
      return server.clientCertificates ? null : 'security profile 3 needs client certificates: set TLS_CA_FILE on the server, or use a password (profile 1 or 2)';
    default:
      return assertNever(profile, 'security profile');
  }
}

/** The profile a request asks for: the one given, else 1 with a password; without either, refused. */
export function requestedSecurityProfile(request: Pick<RegisterStationRequest, 'password' | 'securityProfile'>): SecurityProfile {
  if (request.securityProfile === undefined && request.password === undefined) {
    // Not guessed: the old default (3, client certificate) silently made stations that a server
    // without TLS refuses forever.
    throw new InvalidCommandError(
      'say how the station authenticates: a password (--password, security profile 1; 2 with --security-profile 2) or --security-profile 0 or 3',
      'RegisterStation',
    );
  }
  const profile = request.securityProfile ?? 1;
  if (![0, 1, 2, 3].includes(profile)) throw new InvalidCommandError(`security profile must be 0, 1, 2 or 3, not ${profile}`, 'RegisterStation');
  return profile as SecurityProfile;
}

/**
 * Registers a station, or changes its security when registered. `server` is the configuration of
 * the server stations connect to: the CLI passes its own (direct on the database), the operator
 * API the server's. Omitted only by callers that set up the server themselves (tests).
 */
export async function registerStation(deps: OperatorDeps, request: RegisterStationRequest, server?: StationSecurityConfig): Promise<RegisterStationOutcome> {
  const securityProfile = requestedSecurityProfile(request);
  const needsPassword = securityProfile === 1 || securityProfile === 2;
  if (needsPassword && request.password === undefined) {
    throw new InvalidCommandError(`security profile ${securityProfile} authenticates with a password: give one`, 'RegisterStation');
  }
  if (!needsPassword && request.password !== undefined) {
    throw new InvalidCommandError(`security profile ${securityProfile} uses no password`, 'RegisterStation');
  }
  if (request.password !== undefined) {
    const problem = stationPasswordProblem(request.password);
    if (problem) throw new InvalidCommandError(problem, 'RegisterStation');
  }
  const unusable = server === undefined ? null : securityProfileProblem(securityProfile, server);
  if (unusable !== null && request.force !== true) {
    throw new InvalidCommandError(`${unusable} (--force registers it anyway, for a server configured otherwise than this check assumed)`, 'RegisterStation');
  }
  // Only the hash goes into the event (and so the read model); the password is never stored.
  const passwordHash = request.password === undefined ? null : await hashStationPassword(request.password);
  try {
    await deps.bus.send(envelope(deps, request.stationId, { type: 'RegisterStation', stationId: request.stationId, securityProfile, passwordHash }));
    return { stationId: request.stationId, securityProfile, outcome: 'registered' };
  } catch (error) {
    // Registering again is how an operator rotates a password or moves a station to another profile.
    if (!(error instanceof IllegalStateError) || !/already registered/.test(error.message)) throw error;
  }
  await deps.bus.send(envelope(deps, request.stationId, { type: 'ChangeStationSecurity', securityProfile, passwordHash }));
  return { stationId: request.stationId, securityProfile, outcome: 'securityChanged' };
}

export interface IssueTokenRequest {
  readonly uid: string;
  readonly tokenType?: string | undefined;
  readonly validUntil?: string | undefined;
  readonly contractId?: string | undefined;
  readonly issuer?: string | undefined;
  readonly whitelist?: string | undefined;
  readonly groupId?: string | undefined;
}

export const tokenTypeDefault: TokenType = 'RFID';
export const tokenIssuerDefault = 'Open-CSMS';
/** Our own tokens: the station may ask us; there is no eMSP to be unreachable. */
export const tokenWhitelistDefault: WhitelistType = 'ALLOWED';

export async function issueToken(deps: OperatorDeps, request: IssueTokenRequest): Promise<{ uid: string; changed: boolean }> {
  const tokenType = request.tokenType ?? tokenTypeDefault;
  if (!(tokenTypes as readonly string[]).includes(tokenType)) {
    throw new InvalidCommandError(`token type must be one of ${tokenTypes.join(', ')}`, 'IssueToken');
  }
  const whitelist = request.whitelist ?? tokenWhitelistDefault;
  if (!(whitelistTypes as readonly string[]).includes(whitelist)) {
    throw new InvalidCommandError(`whitelist must be one of ${whitelistTypes.join(', ')}`, 'IssueToken');
  }
  // The token's aggregate id is its uid as stations send it (see the translators' token lookup).
  const result = await deps.bus.send(
    envelope(deps, request.uid, {
      type: 'IssueToken',
      uid: request.uid,
      tokenType: tokenType as TokenType,
      // OCPI requires a contract id; for a local RFID card the uid is the natural one.
      contractId: request.contractId ?? request.uid,
      issuer: request.issuer ?? tokenIssuerDefault,
      validUntil: request.validUntil ?? null,
      whitelist: whitelist as WhitelistType,
      source: 'local',
      groupId: request.groupId ?? null,
    }),
  );
  return { uid: request.uid, changed: result.events.length > 0 && !result.duplicate };
}

export async function blockToken(deps: OperatorDeps, request: { uid: string; reason?: string | undefined }): Promise<{ uid: string; changed: boolean }> {
  const result = await deps.bus.send(envelope(deps, request.uid, { type: 'BlockToken', reason: request.reason ?? 'blocked by operator' }));
  return { uid: request.uid, changed: result.events.length > 0 && !result.duplicate };
}

export interface StationListRow {
  readonly stationId: string;
  readonly registered: boolean;
  readonly securityProfile: number | null;
  readonly online: boolean;
  readonly vendor: string | null;
  readonly model: string | null;
  readonly firmwareVersion: string | null;
  readonly ocppVersion: string | null;
  readonly bootStatus: string | null;
  readonly status: string | null;
  readonly lastSeenAt: string | null;
}

/** Stations listed at most; the list is for a terminal, not an export. */
export const stationListRowsMax = 10_000;

/** From the stations read model (proj_stations), ordered by id. */
export async function listStations(db: SqlExecutor, tenantId: string): Promise<StationListRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT station_id, registered, security_profile, online, vendor, model, firmware_version, ocpp_version, boot_status, status, last_seen_at
       FROM proj_stations.stations WHERE tenant_id = $1 ORDER BY station_id LIMIT ${stationListRowsMax}`,
    [tenantId],
  );
  return rows.map((row) => ({
    stationId: String(row.station_id),
    registered: row.registered === true,
    securityProfile: row.security_profile === null ? null : Number(row.security_profile),
    online: row.online === true,
    vendor: (row.vendor as string | null) ?? null,
    model: (row.model as string | null) ?? null,
    firmwareVersion: (row.firmware_version as string | null) ?? null,
    ocppVersion: (row.ocpp_version as string | null) ?? null,
    bootStatus: (row.boot_status as string | null) ?? null,
    status: (row.status as string | null) ?? null,
    lastSeenAt: row.last_seen_at === null || row.last_seen_at === undefined ? null : new Date(row.last_seen_at as string).toISOString(),
  }));
}
