import { Decimal } from 'decimal.js';
import type { IdToken } from '../../../domain/shared/values.js';
import type { ChargingState, StopReason } from '../../../domain/transaction/events.js';
import { decideAuthorization, ocpp16IdTagInfo } from '../shared/authorization.js';
import type { Translation } from '../shared/context.js';
import { readingsFrom16, type Ocpp16MeterValue } from '../shared/meter-values.js';
import { recordStationMeterValues } from '../shared/reports.js';
import { recordOrRefuse } from '../shared/refusals.js';
import { claimRemoteStart } from '../shared/remote-starts.js';
import { reservationReference } from '../shared/reservations.js';
import { authorizeAndRecord, authorizeStationToken } from '../shared/transactions.js';

/** OCPP 1.6 has no token types: an idTag is recorded as ISO14443 (domain/shared/values.ts). */
export function idTag(value: string): IdToken {
  return { idToken: value, type: 'ISO14443' };
}

/** 1.6 Authorize (§4.1): idTagInfo from the token's state, or from an open remote start of it (shared/transactions.ts). */
export async function authorize16(translation: Translation, payload: { idTag: string }): Promise<unknown> {
  return { idTagInfo: ocpp16IdTagInfo(await authorizeStationToken(translation, idTag(payload.idTag))) };
}

interface StartTransaction16 {
  connectorId: number;
  idTag: string;
  meterStart: number;
  reservationId?: number;
  timestamp: string;
}

/**
 * 1.6 StartTransaction (§4.8): we assign the integer id; connector n is EVSE n connector 1. The
 * start key is the start's own facts, so a retry under any message id gets the same id and answer.
 * A refused token still starts the transaction (the station stops it, §4.8 StopTransactionOnInvalidId).
 * 1.6 does not say a start follows a RemoteStartTransaction: an open remote start of this station
 * for this idTag (and connector, when it named one) claims it, and authorizes it (auth method COMMAND).
 */
export async function startTransaction16(translation: Translation, payload: StartTransaction16): Promise<unknown> {
  const startedAtMs = Date.parse(payload.timestamp);
  const startKey = [translation.stationId, payload.connectorId, Number.isNaN(startedAtMs) ? payload.timestamp : new Date(startedAtMs).toISOString(), payload.meterStart, payload.idTag].join('\n');
  const transactionId = await translation.deps.transactionIds.idFor(translation.tenantId, startKey);
  const aggregateId = String(transactionId);
  const token = idTag(payload.idTag);
  const remoteStart = await claimRemoteStart(translation, { transactionId: aggregateId, evseId: payload.connectorId, idToken: token });
  const decision = await authorizeAndRecord(translation, {
    idToken: token,
    at: payload.timestamp,
    aggregateId,
    commandId: translation.commandId('authorize', { contentOnly: true }),
    evseId: payload.connectorId,
    remoteStart,
    reservationReference: await reservationReference(translation, payload.reservationId),
  });
  await translation.send(
    {
      type: 'StartTransaction',
      transactionId: aggregateId,
      stationTransactionId: aggregateId,
      stationId: translation.stationId,
      evseId: payload.connectorId,
      connectorId: 1,
      idToken: token,
      meterStartWh: new Decimal(payload.meterStart),
      startedAt: payload.timestamp,
      reservationId: payload.reservationId ?? null,
    },
    aggregateId,
    translation.commandId('start', { contentOnly: true }),
    payload.timestamp,
  );
  translation.deps.activeTransactions?.started(translation.tenantId, translation.stationId, payload.connectorId, aggregateId);
  return { transactionId, idTagInfo: ocpp16IdTagInfo(decision) };
}

interface MeterValues16 {
  connectorId: number;
  transactionId?: number;
  meterValue: Ocpp16MeterValue[];
}

/** 1.6 MeterValues (§4.7): each meter value of a transaction becomes a reading; MeterValues.conf is empty. */
export async function meterValues16(translation: Translation, payload: MeterValues16): Promise<unknown> {
  const readings = readingsFrom16(payload.meterValue);
  if (payload.transactionId === undefined) {
    // Connector 0 is the station's main meter; connector n is EVSE n.
    await recordStationMeterValues(translation, payload.connectorId, readings);
    return {};
  }
  // The decider refuses an unknown transaction or another station's (stationId): see refusals.ts.
  const aggregateId = String(payload.transactionId);
  for (const [index, reading] of readings.entries()) {
    await recordOrRefuse(translation, { transactionId: aggregateId, fact: 'reading', what: `reading ${index}` }, () =>
      translation.send(
        { type: 'RecordMeterReading', stationId: translation.stationId, ...reading },
        aggregateId,
        translation.commandId(`reading-${index}`),
        reading.sampledAt,
      ),
    );
  }
  return {};
}
interface StopTransaction16 {
  idTag?: string;
  meterStop: number;
  timestamp: string;
  transactionId: number;
  reason?: StopReason;
  transactionData?: Ocpp16MeterValue[];
}

/**
 * 1.6 StopTransaction (§4.10): the CSMS cannot refuse a stop, so it is always answered; the
 * idTagInfo (for the station's cache) only when an idTag was sent. No reason means Local (§7.45).
 */
export async function stopTransaction16(translation: Translation, payload: StopTransaction16): Promise<unknown> {
  // The decider refuses an unknown transaction or another station's (stationId): see refusals.ts.
  const aggregateId = String(payload.transactionId);
  await recordOrRefuse(translation, { transactionId: aggregateId, fact: 'end', what: 'stop' }, () =>
    translation.send(
      {
        type: 'EndTransaction',
        stationId: translation.stationId,
        meterStopWh: new Decimal(payload.meterStop),
        endedAt: payload.timestamp,
        reason: payload.reason ?? 'Local',
        stoppedBy: payload.idTag === undefined ? null : idTag(payload.idTag),
        transactionData: readingsFrom16(payload.transactionData),
      },
      aggregateId,
      translation.commandId('end', { contentOnly: true }),
      payload.timestamp,
    ),
  );
  translation.deps.activeTransactions?.ended(translation.tenantId, translation.stationId, aggregateId);
  if (payload.idTag === undefined) return {};
  return { idTagInfo: ocpp16IdTagInfo(await decideAuthorization(translation, idTag(payload.idTag), payload.timestamp)) };
}

/**
 * 1.6 has no charging state of its own: the connector status during a transaction is it (§7.7).
 * Finishing means the session stopped charging but the EV is still plugged in: parking time.
 */
const chargingStateOfStatus16: Readonly<Record<string, ChargingState>> = {
  Charging: 'Charging',
  SuspendedEV: 'SuspendedEV',
  SuspendedEVSE: 'SuspendedEVSE',
  Finishing: 'EVConnected',
};

/** A StatusNotification of a connector with a running transaction, as that transaction's charging state. */
export async function chargingStateFromStatus16(translation: Translation, payload: { connectorId: number; status: string; timestamp?: string }): Promise<void> {
  const state = chargingStateOfStatus16[payload.status];
  if (state === undefined || payload.connectorId === 0) return;
  const aggregateId = translation.deps.activeTransactions?.on(translation.tenantId, translation.stationId, payload.connectorId);
  if (aggregateId === undefined) {
    translation.unrecorded(`charging state ${state}: no running transaction known on connector ${payload.connectorId}`);
    return;
  }
  const changedAt = payload.timestamp ?? translation.nowIso();
  await recordOrRefuse(translation, { transactionId: aggregateId, fact: 'chargingState', what: `charging state ${state}` }, () =>
    translation.send(
      { type: 'RecordChargingState', stationId: translation.stationId, state, changedAt },
      aggregateId,
      translation.commandId('charging-state'),
      changedAt,
    ),
  );
}
