import { v5 as uuidv5 } from 'uuid';
import type { IdToken } from '../../../domain/shared/values.js';
import { chargingStates, stopReasons, type ChargingState, type MessageContext, type StopReason } from '../../../domain/transaction/events.js';
import { OcppCallError } from '../../errors.js';
import { ocpp201IdTokenInfo, type AuthorizationDecision } from '../shared/authorization.js';
import type { Translation } from '../shared/context.js';
import { readingsFrom201, registerWithContext201, type Ocpp201MeterValue } from '../shared/meter-values.js';
import { recordOrRefuse } from '../shared/refusals.js';
import { claimRemoteStart } from '../shared/remote-starts.js';
import { reservationReference } from '../shared/reservations.js';
import { authorizeAndRecord } from '../shared/transactions.js';

/** Fixed namespace for 2.0.1 transaction aggregate ids (uuid v5); changing it would split sessions. */
export const ocpp201TransactionNamespace = '5d0b8f6e-3c1a-5e2f-8a47-9b6d2c4e1f03';

/**
 * 2.0.1 stations choose their transaction ids, unique per station only (E01): our aggregate id is
 * a uuid v5 of station and id, deterministic so every message of the session finds the stream, and
 * 36 characters whatever their lengths (the domain keeps transaction ids up to 64).
 */
export function transactionAggregateId201(stationId: string, stationTransactionId: string): string {
  // Bytes, not the string: uuid encodes a string with encodeURIComponent, which throws on a lone surrogate.
  return uuidv5(Buffer.from(`${stationId}\n${stationTransactionId}`, 'utf8'), ocpp201TransactionNamespace);
}

export interface IdToken201 {
  idToken: string;
  type: string;
}

/** NoAuthorization (and an empty id) names nobody: no token to record or look up. */
export function usableIdToken(idToken: IdToken201 | undefined): IdToken | null {
  if (!idToken || idToken.type === 'NoAuthorization' || idToken.idToken.length === 0) return null;
  return { idToken: idToken.idToken, type: idToken.type };
}

interface TransactionEvent201 {
  eventType: 'Started' | 'Updated' | 'Ended';
  timestamp: string;
  triggerReason: string;
  seqNo: number;
  offline?: boolean;
  reservationId?: number;
  transactionInfo: { transactionId: string; chargingState?: string; stoppedReason?: string; remoteStartId?: number };
  idToken?: IdToken201;
  evse?: { id: number; connectorId?: number };
  meterValue?: Ocpp201MeterValue[];
}

function stopReason(value: string | undefined): StopReason {
  // stoppedReason may be omitted only for Local (2.0.1 TransactionType); an unknown value is kept as Other.
  if (value === undefined) return 'Local';
  return (stopReasons as readonly string[]).includes(value) ? (value as StopReason) : 'Other';
}

/**
 * TransactionEvent (2.0.1 E01–E15). Commands carry content-based ids (seqNo and station times are
 * in the content), so a retry under any message id appends nothing. Messages may arrive out of
 * order or late (offline=true): readings go to the transaction decider, which flags late ones and
 * accepts readings after the end up to its endedAt. An Updated/Ended for a transaction whose
 * Started we never got cannot be recorded (the domain needs the start): answered, and recorded as
 * a refusal (shared/refusals.ts).
 */
export async function transactionEvent201(translation: Translation, payload: TransactionEvent201): Promise<unknown> {
  const stationTransactionId = payload.transactionInfo.transactionId;
  const aggregateId = transactionAggregateId201(translation.stationId, stationTransactionId);
  const token = usableIdToken(payload.idToken);
  const id = (part: string) => translation.commandId(part, { contentOnly: true });
  // Kept on every fact this message records: the station's own order and why it sent it.
  const context: MessageContext = { triggerReason: payload.triggerReason, seqNo: payload.seqNo, ...(payload.offline === undefined ? {} : { offline: payload.offline }) };
  const readings = readingsFrom201(payload.meterValue).map((reading) => ({ ...reading, ...context }));
  const stationId = translation.stationId;

  // F01/F02: the message that links the transaction to a RequestStartTransaction echoes its
  // remoteStartId (triggerReason RemoteStart), on Started or, when the cable came first, on an Updated.
  const remoteStartId = payload.transactionInfo.remoteStartId;
  const remoteStart = remoteStartId === undefined ? null : await claimRemoteStart(translation, { transactionId: aggregateId, evseId: payload.evse?.id ?? null, idToken: token, remoteStartId });
  // The remote start's token authorized the transaction even when this message names none.
  const authorizedToken = token ?? remoteStart?.idToken ?? null;
  let decision: AuthorizationDecision | null = null;
  if (authorizedToken) {
    decision = await authorizeAndRecord(translation, {
      idToken: authorizedToken,
      at: payload.timestamp,
      aggregateId,
      commandId: id('authorize'),
      evseId: payload.evse?.id ?? null,
      namedTransactionId: stationTransactionId,
      remoteStart,
      // A station may repeat the token (and remoteStartId) on later events: answered as accepted then.
      reuseAccepted: true,
      reservationReference: await reservationReference(translation, payload.reservationId),
    });
  }

  if (payload.eventType === 'Started') {
    // E01.FR.? : the first TransactionEvent of a transaction names its EVSE.
    if (!payload.evse) throw new OcppCallError('OccurrenceConstraintViolation', 'evse is required in TransactionEvent Started');
    // None at all: the meter start stays unknown and the first register reading stands for it
    // (domain/transaction/state.ts meterStartOf), never 0 Wh.
    const meterStartWh = registerWithContext201(payload.meterValue, 'Transaction.Begin') ?? readings.find((r) => r.registerWh)?.registerWh ?? null;
    await translation.send(
      {
        type: 'StartTransaction',
        transactionId: aggregateId,
        stationTransactionId,
        stationId: translation.stationId,
        evseId: payload.evse.id,
        connectorId: payload.evse.connectorId ?? 1,
        idToken: token,
        meterStartWh,
        startedAt: payload.timestamp,
        reservationId: payload.reservationId ?? null,
        ...context,
      },
      aggregateId,
      id('start'),
      payload.timestamp,
    );
  }

  // Before the end, so a state changed with the Ended message is not recorded as after it.
  const chargingState = payload.transactionInfo.chargingState;
  if (chargingState !== undefined && (chargingStates as readonly string[]).includes(chargingState)) {
    await recordOrRefuse(translation, { transactionId: stationTransactionId, fact: 'chargingState', what: 'charging state' }, () =>
      translation.send(
        { type: 'RecordChargingState', stationId, state: chargingState as ChargingState, changedAt: payload.timestamp, ...context },
        aggregateId,
        id('charging-state'),
        payload.timestamp,
      ),
    );
  }

  if (payload.eventType === 'Ended') {
    await recordOrRefuse(translation, { transactionId: stationTransactionId, fact: 'end', what: 'end' }, () =>
      translation.send(
        {
          type: 'EndTransaction',
          stationId,
          ...context,
          // Absent: the decider takes the latest register up to endedAt.
          meterStopWh: registerWithContext201(payload.meterValue, 'Transaction.End'),
          endedAt: payload.timestamp,
          reason: stopReason(payload.transactionInfo.stoppedReason),
          stoppedBy: token,
          transactionData: readings,
        },
        aggregateId,
        id('end'),
        payload.timestamp,
      ),
    );
  } else {
    for (const [index, reading] of readings.entries()) {
      await recordOrRefuse(translation, { transactionId: stationTransactionId, fact: 'reading', what: `reading ${index}` }, () =>
        translation.send({ type: 'RecordMeterReading', stationId, ...reading }, aggregateId, id(`reading-${index}`), reading.sampledAt),
      );
    }
  }
  // TransactionEventResponse.idTokenInfo is the status of the idToken the request carried: none sent, none answered.
  return decision && token ? { idTokenInfo: ocpp201IdTokenInfo(decision) } : {};
}
