import { describe, expect, it } from 'vitest';
import { eventRegistry, upcast } from '../events.js';
import { fold } from '../shared/decider.js';
import { eventFrom } from '../shared/event-definition.js';
import { TransactionAuthorized, TransactionStarted, type TransactionEvent } from './events.js';
import { transactionDecider } from './index.js';

/** Events as stored by version 1 code; never rewritten, so these shapes must stay readable. */
const startedV1 = {
  transactionId: 'tx-1',
  stationTransactionId: '17',
  stationId: 'CP-1',
  evseId: 1,
  connectorId: 1,
  idToken: { idToken: 'AABBCC', type: 'ISO14443' },
  meterStartWh: '1000',
  startedAt: '2025-03-01T10:00:00.000Z',
  reservationId: null,
};
const authorizedV1 = {
  stationId: 'CP-1',
  evseId: 1,
  idToken: { idToken: 'AABBCC', type: 'ISO14443' },
  result: 'Accepted',
  authorizedAt: '2025-03-01T10:00:00.000Z',
};

describe('TransactionStarted v1 → v2 upcaster', () => {
  it('is at version 2, where meterStartWh may be null', () => {
    expect(eventRegistry.get('TransactionStarted')?.schemaVersion).toBe(2);
    expect(TransactionStarted.schema.safeParse({ ...startedV1, meterStartWh: null }).success).toBe(true);
  });
  it('a v1 start (which always had a meter start) reads as the same v2 data, stored data untouched', () => {
    const copy = structuredClone(startedV1);
    expect(upcast('TransactionStarted', 1, startedV1)).toEqual(eventFrom(TransactionStarted, startedV1));
    expect(startedV1).toEqual(copy);
  });
  it('v1 data without a meter start is invalid: v1 never wrote one', () => {
    expect(() => upcast('TransactionStarted', 1, { ...startedV1, meterStartWh: null })).toThrow(/v1: invalid data/);
  });
  it('a stored v1 start folds into the same state as its v2 equivalent', () => {
    const fromV1 = fold(transactionDecider, [upcast('TransactionStarted', 1, startedV1) as TransactionEvent]);
    expect(fromV1).toEqual(fold(transactionDecider, [eventFrom(TransactionStarted, startedV1)]));
    expect(fromV1.status === 'active' && fromV1.meterStartWh?.toFixed()).toBe('1000');
  });
});

describe('TransactionAuthorized v1 → v2 upcaster', () => {
  it('a v1 authorization reads with basis null: not recorded then, and not guessed', () => {
    expect(eventRegistry.get('TransactionAuthorized')?.schemaVersion).toBe(2);
    expect(upcast('TransactionAuthorized', 1, authorizedV1)).toEqual(eventFrom(TransactionAuthorized, { ...authorizedV1, result: 'Accepted', basis: null }));
  });
  it('v2 data is read as stored', () => {
    const v2 = { ...authorizedV1, basis: 'unknownTokenPolicy' };
    expect(upcast('TransactionAuthorized', 2, v2).data).toEqual(v2);
  });
});
