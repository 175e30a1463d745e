import { describe, expect, it } from 'vitest';
import { given } from '../../../test/support/given-when-then.js';
import { eventRegistry, upcast } from '../../events.js';
import { eventFrom } from '../../shared/event-definition.js';
import { InvalidCommandError } from '../../shared/errors.js';
import type { RecordReservation } from './commands.js';
import { ReservationRequested } from './events.js';
import { reservationDecider } from './index.js';

const record = (overrides: Partial<RecordReservation> = {}): RecordReservation => ({
  type: 'RecordReservation',
  operationId: 'op-1',
  stationId: 'CP-1',
  reservationId: 42,
  evseId: 1,
  idToken: { idToken: 'TAG-1', type: 'ISO14443' },
  authorizationReference: 'RES-REF-1',
  expiresAt: '2025-03-01T11:00:00Z',
  requestedBy: 'partner:emsp',
  requestedAt: '2025-03-01T10:00:00+00:00',
  ...overrides,
});
const requested = (overrides: Partial<RecordReservation> = {}) => {
  const { type: _type, ...data } = record(overrides);
  return eventFrom(ReservationRequested, { ...data, expiresAt: '2025-03-01T11:00:00.000Z', requestedAt: '2025-03-01T10:00:00.000Z' });
};

describe('reservations: recorded by the runner, read by the transaction that uses one', () => {
  it('is recorded once per operation; a new ReserveNow under the same id replaces it', () => {
    given(reservationDecider, []).when(record()).then([requested()]);
    given(reservationDecider, [requested()]).when(record()).then([]);
    given(reservationDecider, [requested()])
      .when(record({ operationId: 'op-2', authorizationReference: null }))
      .thenState((state) => expect(state.latest).toMatchObject({ operationId: 'op-2', authorizationReference: null }));
  });

  it('refuses what events and OCPI objects cannot hold', () => {
    given(reservationDecider, []).when(record({ authorizationReference: 'R'.repeat(37) })).thenThrows(InvalidCommandError, /authorizationReference/);
    given(reservationDecider, []).when(record({ expiresAt: '2025-03-01T11:00:00' })).thenThrows(InvalidCommandError, /expiresAt/);
    given(reservationDecider, []).when(record({ evseId: 0 })).thenThrows(InvalidCommandError, /evseId/);
  });

  it('the event is registered and read back as written', () => {
    expect(eventRegistry.get('ReservationRequested')?.aggregateType).toBe('reservation');
    expect(upcast(requested().type, requested().schemaVersion, requested().data)).toEqual(requested());
  });
});
