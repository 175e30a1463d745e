import { rememberBounded } from '../../domain/shared/bounded-map.js';
import type { OcpiModuleContext } from '../plugin.js';
import type { StationCommandOptions, StationCommandOutcome } from '../ports.js';
import { commandRequestSchemas, commandResultSchema, commandResponseSchema, commandTypeSchema, type CommandResponse, type CommandType } from '../schemas/commands.js';
import { isHub, partiesOf, partyLabel, sameParty, type OcpiParty } from '../transport/headers.js';
import { ocpiRoute, type OcpiCaller } from '../transport/route.js';
import { OcpiError, OcpiStatus } from '../transport/status.js';
import { parseOcpi } from '../transport/validate.js';
import { ocpiVersion } from '../versions/registry.js';
import {
  createAsyncCommandRunner, displayText, findActiveSession, integerIdFor, ocpiCommandTimeouts, operationIdFor, postResult, responseTimeoutSeconds, stationOnline,
} from './async-results.js';
import { commandResultOf } from './results.js';
import { resolveTarget } from './targets.js';

/**
 * OCPI 2.2.1 Commands, Receiver interface (mod_commands): an eMSP asks us to start or stop a
 * session, reserve, cancel a reservation or unlock a connector. We answer at once with a
 * CommandResponse and POST the station's answer as a CommandResult to the eMSP's response_url.
 */

/** Reservations made through this node, to know the station of a CANCEL_RESERVATION. */
const reservationsRememberedMax = 10_000;
/** Operation ids started by this node lately: a retried POST (same X-Request-ID) is answered, not run again. */
const operationIdsRememberedMax = 10_000;

/** OCPI TokenType → the idToken type OCPP 2.0.1 wants (1.6 has only the idTag). */
const idTokenTypes: Record<string, string> = { RFID: 'ISO14443', APP_USER: 'Central', AD_HOC_USER: 'Central', OTHER: 'Central' };

/** An answer at once: a CommandResponse, under status 1000 unless `status` says otherwise. */
type Answer = { readonly respond: CommandResponse; readonly status?: { readonly code: number; readonly message: string } };
type Plan =
  | Answer
  | { readonly responseUrl: string; readonly run: (options: StationCommandOptions) => Promise<StationCommandOutcome>; readonly onAccepted?: () => void };

const refuse = (result: CommandResponse['result'], message: string): Answer => ({ respond: { result, timeout: 0, message: displayText(message) } });

/**
 * A target we cannot resolve. An unknown location, EVSE or connector is status 2003 with
 * `{result: REJECTED}` as data, HTTP 200: the spec's example "UNLOCK_CONNECTOR Unknown Location"
 * answers exactly that, and the POST did reach an existing endpoint (status.ts: HTTP errors are
 * for the transport). Any other refusal is 1000 with REJECTED and the reason.
 */
const refuseTarget = (target: { readonly unknown: boolean; readonly message: string }): Answer =>
  target.unknown ? { ...refuse('REJECTED', target.message), status: { code: OcpiStatus.unknownLocation, message: target.message } } : refuse('REJECTED', target.message);

/** Commands refused for naming another party's token, for metrics (docs/design.md: every denial counted). */
export const ocpiCommandsDenials = { tokenOfOtherParty: 0 };

/**
 * The party a START_SESSION's Token belongs to authorizes the session and pays for it, so it must
 * be one the caller speaks for: a party of its credentials (a HUB forwards for parties we do not
 * know one by one: any). Else status 2001, as for another party's object in the tokens module,
 * with a REJECTED CommandResponse (the spec's refusal of a command we will not send), HTTP 200.
 */
function tokenPartyOf(token: { readonly country_code: string; readonly party_id: string }, caller: Pick<OcpiCaller, 'roles'>): OcpiParty | Answer {
  const party = { countryCode: token.country_code.toUpperCase(), partyId: token.party_id.toUpperCase() };
  const theirs = partiesOf(caller.roles);
  if (isHub(caller.roles) || theirs.some((known) => sameParty(known, party))) return party;
  ocpiCommandsDenials.tokenOfOtherParty += 1;
  const message = `the token's party ${partyLabel(party)} is not a party of your credentials (${theirs.map(partyLabel).join(', ') || 'none'})`;
  return { ...refuse('REJECTED', message), status: { code: OcpiStatus.invalidOrMissingParameters, message } };
}

export function commandsModule(context: OcpiModuleContext): void {
  const runner = createAsyncCommandRunner(context.app, 'commands');
  const reservations = new Map<string, string>();
  const operationIds = new Map<string, true>();
  context.registry.add(ocpiVersion, { identifier: 'commands', role: 'RECEIVER', path: `/${ocpiVersion}/commands` });

  async function plan(command: CommandType, body: unknown, caller: Pick<OcpiCaller, 'partnerId' | 'roles'>): Promise<Plan> {
    const partnerId = caller.partnerId;
    const stations = context.stationCommands;
    if (stations === null) return refuse('NOT_SUPPORTED', 'remote commands are not available on this server');
    switch (command) {
      case 'START_SESSION': {
        const start = parseOcpi(commandRequestSchemas.START_SESSION, body, 'StartSession');
        const authorizingParty = tokenPartyOf(start.token, caller);
        if ('respond' in authorizingParty) return authorizingParty;
        const target = await resolveTarget(context.db, context.tenantId, { locationId: start.location_id, evseUid: start.evse_uid, connectorId: start.connector_id });
        if (!target.ok) return refuseTarget(target);
        return {
          responseUrl: start.response_url,
          run: (options) =>
            stations.startSession(
              target.evse.stationId,
              {
                evseId: target.evse.stationEvseId,
                idToken: start.token.uid,
                idTokenType: idTokenTypes[start.token.type] ?? 'Central',
                // The station operation derives its remoteStartId from the operation id the same way.
                remoteStartId: integerIdFor(options.operationId),
                // Recorded with the remote start; the Session and CDR of the transaction it starts carry it.
                ...(start.authorization_reference === undefined ? {} : { authorizationReference: start.authorization_reference }),
                // Its eMSP is billed for the session, whether it ever pushed this token or not; the
                // Token's contract_id and type go into the Session and CDR (13.3.5) when we do not hold it.
                authorizingParty: { ...authorizingParty, contractId: start.token.contract_id, tokenType: start.token.type },
              },
              options,
            ),
        };
      }
      case 'STOP_SESSION': {
        const stop = parseOcpi(commandRequestSchemas.STOP_SESSION, body, 'StopSession');
        const session = await findActiveSession(context.db, context.tenantId, stop.session_id);
        if (session === null) return refuse('UNKNOWN_SESSION', `no running session ${stop.session_id}`);
        if (!(await stationOnline(context.db, context.tenantId, session.stationId))) return refuse('REJECTED', 'the station of this session is offline');
        return { responseUrl: stop.response_url, run: (options) => stations.stopSession(session.stationId, { transactionId: session.transactionId }, options) };
      }
      case 'RESERVE_NOW': {
        const reserve = parseOcpi(commandRequestSchemas.RESERVE_NOW, body, 'ReserveNow');
        const target = await resolveTarget(context.db, context.tenantId, { locationId: reserve.location_id, evseUid: reserve.evse_uid });
        if (!target.ok) return refuseTarget(target);
        const key = `${partnerId}\n${reserve.reservation_id}`;
        // OCPP wants an integer; the same OCPI reservation id maps to the same one (a new RESERVE_NOW replaces it, spec).
        const reservationId = integerIdFor(key);
        return {
          responseUrl: reserve.response_url,
          onAccepted: () => rememberBounded(reservations, key, target.evse.stationId, reservationsRememberedMax),
          run: (options) =>
            stations.reserveNow(
              target.evse.stationId,
              {
                reservationId,
                evseId: reserve.evse_uid === undefined ? null : target.evse.stationEvseId,
                idToken: reserve.token.uid,
                idTokenType: idTokenTypes[reserve.token.type] ?? 'Central',
                // OCPI DateTime may leave out the Z (it is UTC); OCPP's date-time needs the zone.
                expiryDate: reserve.expiry_date.endsWith('Z') ? reserve.expiry_date : `${reserve.expiry_date}Z`,
                // Kept with the reservation, for the Session and CDR of the transaction that uses it (OCPI ReserveNow: SHALL).
                ...(reserve.authorization_reference === undefined ? {} : { authorizationReference: reserve.authorization_reference }),
              },
              options,
            ),
        };
      }
      case 'CANCEL_RESERVATION': {
        const cancel = parseOcpi(commandRequestSchemas.CANCEL_RESERVATION, body, 'CancelReservation');
        const key = `${partnerId}\n${cancel.reservation_id}`;
        const stationId = reservations.get(key);
        if (stationId === undefined) return refuse('REJECTED', `reservation ${cancel.reservation_id} is not known to this server`);
        return { responseUrl: cancel.response_url, run: (options) => stations.cancelReservation(stationId, { reservationId: integerIdFor(key) }, options) };
      }
      case 'UNLOCK_CONNECTOR': {
        const unlock = parseOcpi(commandRequestSchemas.UNLOCK_CONNECTOR, body, 'UnlockConnector');
        const target = await resolveTarget(context.db, context.tenantId, { locationId: unlock.location_id, evseUid: unlock.evse_uid, connectorId: unlock.connector_id, forUnlock: true });
        if (!target.ok) return refuseTarget(target);
        const connectorId = target.stationConnectorId ?? 1;
        return { responseUrl: unlock.response_url, run: (options) => stations.unlockConnector(target.evse.stationId, { evseId: target.evse.stationEvseId, connectorId }, options) };
      }
    }
  }

  ocpiRoute(context.app, context.transport, {
    method: 'POST',
    url: `/${ocpiVersion}/commands/:command`,
    module: 'commands',
    handler: async (request, _reply, { caller, ids }) => {
      const name = (request.params as { command: string }).command;
      const parsed = commandTypeSchema.safeParse(name);
      // Spec mod_commands: an unknown command is answered 2001 with HTTP 404.
      if (!parsed.success) throw new OcpiError(OcpiStatus.invalidOrMissingParameters, `unknown command ${name}`, { httpStatus: 404 });
      const command = parsed.data;
      const planned = await plan(command, request.body, caller);
      if ('respond' in planned) return { data: commandResponseSchema.parse(planned.respond), ...(planned.status ? { status: planned.status } : {}) };

      const operationId = operationIdFor('commands', caller.partnerId, ids.requestId);
      const timeout = responseTimeoutSeconds();
      if (operationIds.has(operationId)) return { data: { result: 'ACCEPTED', timeout } };
      const options: StationCommandOptions = {
        actor: `partner:${caller.partnerId}`,
        correlationId: ids.correlationId,
        operationId,
        timeoutMs: ocpiCommandTimeouts.stationAnswerMs,
      };
      const started = runner.start(async () => {
        const outcome = await planned.run(options);
        const result = commandResultOf(command, outcome);
        if (result.result === 'ACCEPTED') planned.onAccepted?.();
        await postResult(context, { partnerId: caller.partnerId, url: planned.responseUrl, correlationId: ids.correlationId, schema: commandResultSchema, body: result });
      });
      if (!started) return { data: commandResponseSchema.parse(refuse('REJECTED', 'too many commands in progress; try again shortly').respond) };
      rememberBounded(operationIds, operationId, true, operationIdsRememberedMax);
      return { data: commandResponseSchema.parse({ result: 'ACCEPTED', timeout }) };
    },
  });
}
