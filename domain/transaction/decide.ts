import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { assertNever } from '../shared/assert.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { TransactionNotStartedError } from './errors.js';
import { checkNonNegativeInteger, checkText, idTokenSchema, normalizeTimestamp, sameJson, timeMs, whToString, type IdToken } from '../shared/values.js';
import { decideChargingPreferences } from './charging-preferences.js';
import { decideChargingState } from './charging-state.js';
import type { AuthorizeTransaction, EndTransaction, MeterReadingInput, StartTransaction, TransactionCommand } from './commands.js';
import {
  authorizationBases,
  authorizationReferenceSchema,
  authorizationResults,
  MeterReadingRecorded,
  sampledValuesPerReadingMax,
  sampledValueSchema,
  signedDataSchema,
  stopReasons,
  TransactionAuthorized,
  TransactionEnded,
  TransactionStarted,
  type TransactionEvent,
  type TransactionEventData,
} from './events.js';
import { contextOf, checkSameStation } from './message-context.js';
import { checkAuthorizingParty } from './session-authorization.js';
import { evolveTransaction, meterStartOf, readingFingerprint, readingsOf, type Started, type TransactionState } from './state.js';
import { meterReadingsPerTransactionMax } from './meter-energy.js';

/** A week of one-minute readings with room to spare; more means a station is misbehaving (meter-energy.ts holds it). */
export { meterReadingsPerTransactionMax };

export function decideTransaction(command: TransactionCommand, state: TransactionState): TransactionEvent[] {
  switch (command.type) {
    case 'AuthorizeTransaction': {
      if (state.status === 'ended') throw new IllegalStateError('transaction has ended', command.type);
      if (!authorizationResults.includes(command.result)) {
        throw new InvalidCommandError(`unknown authorization result ${String(command.result)}`, command.type);
      }
      if (!authorizationBases.includes(command.basis)) {
        throw new InvalidCommandError(`unknown authorization basis ${String(command.basis)}`, command.type);
      }
      return [
        eventFrom(TransactionAuthorized, {
          stationId: checkText(command.stationId, 'stationId', 48, command.type),
          evseId: command.evseId == null ? null : checkPositive(command.evseId, 'evseId', command.type),
          idToken: checkIdToken(command.idToken, command.type),
          result: command.result,
          authorizedAt: normalizeTimestamp(command.authorizedAt, 'authorizedAt', command.type),
          basis: command.basis,
          ...authorizationLinks(command),
        }),
      ];
    }
    case 'StartTransaction': {
      const started = startedData(command);
      if (state.status === 'none') return [eventFrom(TransactionStarted, started)];
      // The station resending its start (a retry under a new message id) is not a new fact.
      if (sameJson(state.data, started)) return [];
      throw new IllegalStateError('transaction already started with other facts', command.type);
    }
    case 'RecordMeterReading': {
      if (state.status === 'none') throw new TransactionNotStartedError('transaction has not started', command.type);
      checkSameStation(command.stationId, state.data.stationId, command.type);
      const reading = recordedReading(command, state, command.type);
      return reading === null ? [] : [eventFrom(MeterReadingRecorded, reading)];
    }
    case 'EndTransaction':
      return decideEnd(command, state);
    case 'RecordChargingState':
      return decideChargingState(command, state);
    case 'SetChargingPreferences':
      return decideChargingPreferences(command, state);
    default:
      return assertNever(command, 'transaction command');
  }
}

/** The optional reference, remote start and authorizing eMSP of an authorization, left out of the event when absent. */
function authorizationLinks(command: AuthorizeTransaction): Pick<TransactionEventData<'TransactionAuthorized'>, 'authorizationReference' | 'remoteStartOperationId' | 'authorizingParty'> {
  return {
    ...(command.authorizationReference == null ? {} : { authorizationReference: checkReference(command.authorizationReference, command.type) }),
    ...(command.remoteStartOperationId == null ? {} : { remoteStartOperationId: checkText(command.remoteStartOperationId, 'remoteStartOperationId', 100, command.type) }),
    ...(command.authorizingParty == null ? {} : { authorizingParty: checkAuthorizingParty(command.authorizingParty, command.type) }),
  };
}

function checkReference(reference: string, commandType: string): string {
  if (!authorizationReferenceSchema.safeParse(reference).success) throw new InvalidCommandError('authorizationReference must be 1 to 36 printable ASCII characters', commandType);
  return reference;
}

function checkPositive(value: number, field: string, commandType: string): number {
  checkNonNegativeInteger(value, field, commandType);
  if (value === 0) throw new InvalidCommandError(`${field} must be at least 1`, commandType);
  return value;
}

function checkIdToken(idToken: IdToken, commandType: string): IdToken {
  const parsed = idTokenSchema.safeParse(idToken);
  if (!parsed.success) throw new InvalidCommandError(`invalid idToken: ${parsed.error.message}`, commandType);
  return parsed.data;
}

function startedData(command: StartTransaction): TransactionEventData<'TransactionStarted'> {
  return {
    transactionId: checkText(command.transactionId, 'transactionId', 64, command.type),
    stationTransactionId:
      command.stationTransactionId == null ? null : checkText(command.stationTransactionId, 'stationTransactionId', 64, command.type),
    stationId: checkText(command.stationId, 'stationId', 48, command.type),
    evseId: checkPositive(command.evseId, 'evseId', command.type),
    connectorId: checkPositive(command.connectorId, 'connectorId', command.type),
    idToken: command.idToken == null ? null : checkIdToken(command.idToken, command.type),
    meterStartWh: command.meterStartWh == null ? null : whToString(command.meterStartWh, 'meterStartWh', command.type),
    startedAt: normalizeTimestamp(command.startedAt, 'startedAt', command.type),
    reservationId: command.reservationId ?? null,
    ...contextOf(command, command.type),
  };
}

const sampledValuesSchema = z.array(sampledValueSchema).max(sampledValuesPerReadingMax);

/**
 * A reading as it will be recorded, or null when the same reading is already in the stream.
 * Late: sampled before a reading already recorded (or before the start), or after the end up to
 * endedAt (offline queue flushed after StopTransaction). Sampled after the end: refused, it cannot
 * belong to this transaction. Suspicious: the register is out of order with a reading, the start
 * or the stop (registers only go up: a lower value is a meter fault, kept for the audit).
 */
function recordedReading(
  input: MeterReadingInput,
  state: Exclude<TransactionState, { status: 'none' }>,
  commandType: string,
): TransactionEventData<'MeterReadingRecorded'> | null {
  if (state.readingCount >= meterReadingsPerTransactionMax) {
    throw new IllegalStateError(`transaction already has ${meterReadingsPerTransactionMax} readings`, commandType);
  }
  const sampledAt = normalizeTimestamp(input.sampledAt, 'sampledAt', commandType);
  const registerWh = input.registerWh == null ? null : whToString(input.registerWh, 'registerWh', commandType);
  const sampledValues = sampledValuesSchema.safeParse(input.sampledValues ?? []);
  if (!sampledValues.success) throw new InvalidCommandError(`invalid sampled values: ${sampledValues.error.message}`, commandType);
  const signedData = input.signedData === undefined || input.signedData === null ? null : signedDataSchema.safeParse(input.signedData);
  if (signedData && !signedData.success) throw new InvalidCommandError('signed data is not JSON', commandType);
  if (registerWh === null && sampledValues.data.length === 0) {
    throw new InvalidCommandError('a reading needs a register or sampled values', commandType);
  }
  const facts = { sampledAt, registerWh, sampledValues: sampledValues.data, signedData: signedData ? signedData.data : null };
  const context = contextOf(input, commandType);
  const fingerprint = readingFingerprint(facts);
  for (const node of readingsOf(state.readings)) if (node.fingerprint === fingerprint) return null;

  const sampledAtMs = timeMs(sampledAt);
  if (state.status === 'ended' && sampledAtMs > state.endedAtMs) {
    throw new IllegalStateError(`reading sampled at ${sampledAt}, after the transaction ended`, commandType);
  }
  const late =
    state.status === 'ended' || sampledAtMs < Math.max(state.latestSampledAtMs ?? state.startedAtMs, state.startedAtMs);
  const suspicious = registerWh !== null && registerOutOfOrder(state, sampledAtMs, new Decimal(registerWh));
  return { ...facts, suspicious, late, ...context };
}

function registerOutOfOrder(state: Exclude<TransactionState, { status: 'none' }>, atMs: number, wh: Decimal): boolean {
  const known: { sampledAtMs: number; registerWh: Decimal }[] = [];
  if (state.meterStartWh !== null) known.push({ sampledAtMs: state.startedAtMs, registerWh: state.meterStartWh });
  if (state.status === 'ended') known.push({ sampledAtMs: state.endedAtMs, registerWh: state.meterStopWh });
  for (const node of readingsOf(state.readings)) if (node.register) known.push(node.register);
  return known.some(
    (other) => (other.sampledAtMs <= atMs && other.registerWh.gt(wh)) || (other.sampledAtMs >= atMs && other.registerWh.lt(wh)),
  );
}

/** The register reading with the highest sampledAt at or before `atMs`. */
function lastRegisterUpTo(started: Started, atMs: number): Decimal | null {
  let best: { sampledAtMs: number; registerWh: Decimal } | null = null;
  for (const node of readingsOf(started.readings)) {
    const register = node.register;
    // Newest arrival first, so on equal times the later arrival wins (strict >).
    if (register && register.sampledAtMs <= atMs && (!best || register.sampledAtMs > best.sampledAtMs)) best = register;
  }
  return best?.registerWh ?? null;
}

/**
 * A 1.6 meterStop is a whole Wh while the readings before it may carry decimals (33.39 Wh, stop 33):
 * a reading above the stop by less than this is the station's rounding, not a meter fault.
 */
export const stopRoundingToleranceWh = 1;

/**
 * Ending twice with the same facts is a no-op (stations resend StopTransaction when the answer
 * was lost); with other facts it is refused, since billing already used the first.
 */
function decideEnd(command: EndTransaction, state: TransactionState): TransactionEvent[] {
  if (state.status === 'none') throw new TransactionNotStartedError('transaction has not started', command.type);
  checkSameStation(command.stationId, state.data.stationId, command.type);
  const endedAt = normalizeTimestamp(command.endedAt, 'endedAt', command.type);
  if (!stopReasons.includes(command.reason)) throw new InvalidCommandError(`unknown stop reason ${String(command.reason)}`, command.type);
  const stoppedBy = command.stoppedBy == null ? null : checkIdToken(command.stoppedBy, command.type);
  const givenStopWh = command.meterStopWh == null ? null : whToString(command.meterStopWh, 'meterStopWh', command.type);

  if (state.status === 'ended') {
    const previous = state.ended;
    const same =
      previous.endedAt === endedAt &&
      previous.reason === command.reason &&
      sameJson(previous.stoppedBy, stoppedBy) &&
      (givenStopWh === null ? previous.meterStopSource === 'lastReading' : previous.meterStopWh === givenStopWh && previous.meterStopSource === 'station');
    if (same) return [];
    throw new IllegalStateError('transaction already ended with other facts', command.type);
  }

  const events: TransactionEvent[] = [];
  let current: TransactionState = state;
  for (const input of command.transactionData ?? []) {
    if (current.status === 'none') break; // unreachable: state is active
    const reading = recordedReading(input, current, command.type);
    if (reading === null) continue;
    const event = eventFrom(MeterReadingRecorded, reading);
    events.push(event);
    current = evolveTransaction(current, event);
  }
  if (current.status !== 'active') throw new Error('invariant violated: transaction left active while recording end data');

  const endedAtMs = timeMs(endedAt);
  const meterStartWh = meterStartOf(current);
  // No register ever known (no start, no reading, no stop): the stop stands for nothing; flagged.
  const stopKnown = givenStopWh !== null ? new Decimal(givenStopWh) : (lastRegisterUpTo(current, endedAtMs) ?? meterStartWh);
  const meterStopWh = stopKnown ?? new Decimal(0);
  let readingAboveStop = false;
  for (const node of readingsOf(current.readings)) {
    const register = node.register;
    if (register && register.sampledAtMs <= endedAtMs && register.registerWh.minus(meterStopWh).gte(stopRoundingToleranceWh)) readingAboveStop = true;
  }
  const suspicious =
    stopKnown === null || (meterStartWh !== null && meterStopWh.lt(meterStartWh)) || endedAtMs < current.startedAtMs || readingAboveStop;
  events.push(
    eventFrom(TransactionEnded, {
      meterStopWh: meterStopWh.toFixed(),
      meterStopSource: givenStopWh === null ? 'lastReading' : 'station',
      endedAt,
      reason: command.reason,
      stoppedBy,
      suspicious,
      ...contextOf(command, command.type),
    }),
  );
  return events;
}
