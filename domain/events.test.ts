import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { eventRegistry, EventSchemaError, upcast } from './events.js';
import { fold } from './shared/decider.js';
import { eventFrom } from './shared/event-definition.js';
import { MeterReadingRecorded, TransactionStarted, transactionDecider, energySoFarWh, type TransactionEvent } from './transaction/index.js';

const started = eventFrom(TransactionStarted, {
  transactionId: 'tx-1',
  stationTransactionId: null,
  stationId: 'CP-1',
  evseId: 1,
  connectorId: 1,
  idToken: null,
  meterStartWh: '1000',
  startedAt: '2025-03-01T10:00:00.000Z',
  reservationId: null,
});

describe('event registry', () => {
  it('knows every event type with its current version', () => {
    expect(eventRegistry.get('MeterReadingRecorded')?.schemaVersion).toBe(2);
    expect(eventRegistry.get('StationBooted')?.aggregateType).toBe('station');
    expect(eventRegistry.get('TokenIssued')?.aggregateType).toBe('token');
    for (const type of ['StationRegistered', 'ConnectorStatusChanged', 'TransactionStarted', 'TransactionEnded', 'TokenBlocked', 'CdrIssued']) {
      expect(eventRegistry.has(type), type).toBe(true);
    }
  });
  it('validates current-version data and returns it at the current version', () => {
    expect(upcast('TransactionStarted', 1, started.data)).toEqual(started);
  });
  it('refuses an unknown type, a future version and invalid data, clearly', () => {
    expect(() => upcast('StationExploded', 1, {})).toThrow(EventSchemaError);
    expect(() => upcast('StationExploded', 1, {})).toThrow(/unknown event type/);
    expect(() => upcast('MeterReadingRecorded', 3, {})).toThrow(/unknown schema version/);
    expect(() => upcast('TransactionStarted', 1, { ...started.data, meterStartWh: 1000 })).toThrow(/invalid data/);
    expect(() => upcast('MeterReadingRecorded', 1, { sampledAt: 'x' })).toThrow(/v1: invalid data/);
  });
});

describe('MeterReadingRecorded v1 → v2 upcaster', () => {
  const storedV1 = { sampledAt: '2025-03-01T10:30:00.000Z', registerKwh: '2.5005', signedData: 'OCMF|{}|{}', suspicious: false };
  const v2 = eventFrom(MeterReadingRecorded, {
    sampledAt: '2025-03-01T10:30:00.000Z',
    registerWh: '2500.5',
    sampledValues: [],
    signedData: 'OCMF|{}|{}',
    suspicious: false,
    late: false,
  });
  it('turns kWh into Wh exactly, and leaves the stored data untouched', () => {
    const copy = structuredClone(storedV1);
    expect(upcast('MeterReadingRecorded', 1, storedV1)).toEqual(v2);
    expect(storedV1).toEqual(copy);
  });
  it('a stored v1 event folds into the same state as its v2 equivalent', () => {
    const fromV1 = fold(transactionDecider, [started, upcast('MeterReadingRecorded', 1, storedV1) as TransactionEvent]);
    const fromV2 = fold(transactionDecider, [started, v2]);
    expect(fromV1).toEqual(fromV2);
    expect(energySoFarWh(fromV1)).toEqual(new Decimal('1500.5'));
  });
});
