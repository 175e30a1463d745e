import { Decimal } from 'decimal.js';
import type { IdToken } from '../../../domain/shared/values.js';
import type { StopReason } from '../../../domain/transaction/events.js';
import { decideAuthorization, ocpp16IdTagInfo } from '../shared/authorization.js';
import type { Translation } from '../shared/context.js';
import { readingsFrom16, type Ocpp16MeterValue } from '../shared/meter-values.js';
import { loadTransaction, stationOf } from '../shared/transaction-lookup.js';
import { authorizeAndRecord, recordOrReport } from '../shared/transactions.js';

/** OCPP 1.6 has no token types: an idTag is recorded as ISO14443 (domain/shared/values.ts). */
export function idTag(value: string): IdToken {
  return { idToken: value, type: 'ISO14443' };
}

/** 1.6 Authorize (§4.1): idTagInfo from the token's state; recorded on an authorization-only transaction stream. */
export async function authorize16(translation: Translation, payload: { idTag: string }): Promise<unknown> {
  const commandId = translation.commandId('authorize');
  // 1.6 Authorize names no transaction (the StartTransaction that may follow gets its id later), so
  // the decision is recorded in a transaction stream of its own that never starts; see the report.
  const decision = await authorizeAndRecord(translation, { idToken: idTag(payload.idTag), at: translation.nowIso(), aggregateId: commandId, commandId });
  return { idTagInfo: ocpp16IdTagInfo(decision) };
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
 */
export async function startTransaction16(translation: Translation, payload: StartTransaction16): Promise<unknown> {
  const startedAtMs = Date.parse(payload.timestamp);
  const startKey = [translation.stationId, payload.connectorId, Number.isNaN(startedAtMs) ? payload.timestamp : new Date(startedAtMs).toISOString(), payload.meterStart, payload.idTag].join('\n');
  const transactionId = await translation.deps.transactionIds.idFor(translation.tenantId, startKey);
  const aggregateId = String(transactionId);
  const token = idTag(payload.idTag);
  const decision = await authorizeAndRecord(translation, {
    idToken: token,
    at: payload.timestamp,
    aggregateId,
    commandId: translation.commandId('authorize', { contentOnly: true }),
    evseId: payload.connectorId,
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
  return { transactionId, idTagInfo: ocpp16IdTagInfo(decision) };
}

/** The transaction the station names, if it exists and is this station's; else reported, null. */
async function stationTransaction(translation: Translation, transactionId: number): Promise<string | null> {
  const aggregateId = String(transactionId);
  const state = await loadTransaction(translation.deps.eventStore, translation.tenantId, aggregateId);
  const owner = stationOf(state);
  if (owner === translation.stationId) return aggregateId;
  translation.unrecorded(owner === null ? `unknown transaction ${transactionId}` : `transaction ${transactionId} belongs to another station`);
  return null;
}

interface MeterValues16 {
  connectorId: number;
  transactionId?: number;
  meterValue: Ocpp16MeterValue[];
}

/** 1.6 MeterValues (§4.7): each meter value of a transaction becomes a reading; MeterValues.conf is empty. */
export async function meterValues16(translation: Translation, payload: MeterValues16): Promise<unknown> {
  if (payload.transactionId === undefined) {
    translation.unrecorded('meter values outside a transaction: the domain has no station-level readings');
    return {};
  }
  const aggregateId = await stationTransaction(translation, payload.transactionId);
  if (aggregateId === null) return {};
  const readings = readingsFrom16(payload.meterValue);
  for (const [index, reading] of readings.entries()) {
    await recordOrReport(translation, `reading ${index}`, () =>
      translation.send({ type: 'RecordMeterReading', ...reading }, aggregateId, translation.commandId(`reading-${index}`), reading.sampledAt),
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
  const aggregateId = await stationTransaction(translation, payload.transactionId);
  if (aggregateId !== null) {
    await recordOrReport(translation, 'stop', () =>
      translation.send(
        {
          type: 'EndTransaction',
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
  }
  if (payload.idTag === undefined) return {};
  return { idTagInfo: ocpp16IdTagInfo(await decideAuthorization(translation, idTag(payload.idTag), payload.timestamp)) };
}
