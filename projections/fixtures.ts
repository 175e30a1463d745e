import { randomUUID } from 'node:crypto';
import type { EventToAppend, JsonObject } from '../adapters/event-store/port.js';
import { streamName } from '../domain/shared/event.js';

/**
 * A realistic charging history for read-model tests and the rebuild benchmark: stations that
 * register, boot, connect and report connector statuses; sessions with meter readings that end;
 * tokens issued and some blocked. Valid against the domain's event schemas (the projections
 * upcast and validate every event), appended through the event store so hash chains are real.
 */
export interface StreamAppend {
  readonly streamId: string;
  readonly events: EventToAppend[];
}

export interface HistoryOptions {
  readonly tenantId: string;
  readonly stations: number;
  readonly transactionsPerStation: number;
  readonly readingsPerTransaction: number;
  readonly tokens: number;
  /** Start of the history; each event is a minute after the one before it in its stream. */
  readonly startMs?: number;
}

function event(tenantId: string, type: string, data: JsonObject, atMs: number, schemaVersion = 1): EventToAppend {
  const at = new Date(atMs).toISOString();
  return {
    eventId: randomUUID(),
    type,
    schemaVersion,
    data,
    metadata: { tenantId, correlationId: randomUUID(), causationId: randomUUID(), actor: 'system:fixture', occurredAt: at, recordedAt: at },
  };
}

const minuteMs = 60_000;

export function stationHistory(options: HistoryOptions, index: number): StreamAppend {
  const { tenantId } = options;
  const stationId = `CP-${String(index).padStart(6, '0')}`;
  let t = options.startMs ?? Date.UTC(2026, 0, 1);
  const next = () => (t += minuteMs);
  const status = (connectorId: number, value: string) => ({
    evseId: connectorId, connectorId, status: value, errorCode: null, info: null, vendorId: null, vendorErrorCode: null, statusAt: new Date(next()).toISOString(),
  });
  const events = [
    event(tenantId, 'StationRegistered', { stationId, securityProfile: 1, passwordHash: 'hash' }, next()),
    event(tenantId, 'StationBooted', {
      vendor: 'Alfen', model: 'Eve Double', serialNumber: `SN${index}`, firmwareVersion: '6.4.0', ocppVersion: '1.6',
      bootReason: null, bootStatus: 'Accepted', registered: true, bootedAt: new Date(next()).toISOString(),
    }, t),
    event(tenantId, 'StationConnected', { connectionId: `c-${index}`, ocppVersion: '1.6', connectedAt: new Date(next()).toISOString() }, t),
    event(tenantId, 'ConnectorStatusChanged', status(1, 'Available'), t),
    event(tenantId, 'ConnectorStatusChanged', status(2, 'Available'), t),
  ];
  for (let i = 0; i < options.transactionsPerStation; i++) {
    events.push(event(tenantId, 'ConnectorStatusChanged', status(1 + (i % 2), 'Charging'), t));
    events.push(event(tenantId, 'ConnectorStatusChanged', status(1 + (i % 2), 'Available'), t));
  }
  return { streamId: streamName('station', tenantId, stationId), events };
}

export function transactionHistory(options: HistoryOptions, stationIndex: number, n: number): StreamAppend {
  const { tenantId } = options;
  const stationId = `CP-${String(stationIndex).padStart(6, '0')}`;
  const transactionId = `${stationId}-T${n}`;
  let t = (options.startMs ?? Date.UTC(2026, 0, 1)) + n * 1000 * minuteMs;
  const next = () => new Date((t += minuteMs)).toISOString();
  const meterStartWh = 1000 * n;
  const events = [
    event(tenantId, 'TransactionStarted', {
      transactionId, stationTransactionId: String(n), stationId, evseId: 1 + (n % 2), connectorId: 1,
      idToken: { idToken: `TOKEN${stationIndex % Math.max(options.tokens, 1)}`, type: 'ISO14443' }, meterStartWh: String(meterStartWh),
      startedAt: next(), reservationId: null,
    }, t),
  ];
  let register = meterStartWh;
  for (let r = 0; r < options.readingsPerTransaction; r++) {
    register += 250.5;
    events.push(event(tenantId, 'MeterReadingRecorded', {
      sampledAt: next(), registerWh: register.toFixed(1),
      sampledValues: [{ value: '7.4', measurand: 'Power.Active.Import', phase: null, unit: 'kW', multiplier: null, context: 'Sample.Periodic', location: null }],
      signedData: null, suspicious: false, late: false,
    }, t, 2));
  }
  events.push(event(tenantId, 'TransactionEnded', {
    meterStopWh: (register + 100).toFixed(1), meterStopSource: 'station', endedAt: next(), reason: 'EVDisconnected', stoppedBy: null, suspicious: false,
  }, t));
  return { streamId: streamName('transaction', tenantId, transactionId), events };
}

export function tokenHistory(options: HistoryOptions, index: number): StreamAppend {
  const { tenantId } = options;
  const uid = `TOKEN${index}`;
  const t = options.startMs ?? Date.UTC(2026, 0, 1);
  const events = [
    event(tenantId, 'TokenIssued', {
      uid, tokenType: 'RFID', contractId: `NL-ABC-C${String(index).padStart(8, '0')}`, issuer: 'ABC', ownerId: null, visualNumber: null,
      validUntil: null, whitelist: 'ALLOWED', source: 'local', groupId: null,
    }, t),
  ];
  if (index % 3 === 0) events.push(event(tenantId, 'TokenBlocked', { reason: 'lost card' }, t + minuteMs));
  return { streamId: streamName('token', tenantId, uid), events };
}

/** Every stream of the history, in the order a real system would plausibly append them. */
export function* history(options: HistoryOptions): Generator<StreamAppend> {
  for (let i = 0; i < options.tokens; i++) yield tokenHistory(options, i);
  for (let s = 0; s < options.stations; s++) {
    yield stationHistory(options, s);
    for (let n = 0; n < options.transactionsPerStation; n++) yield transactionHistory(options, s, n);
  }
}
