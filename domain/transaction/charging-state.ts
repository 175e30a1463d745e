import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { TransactionNotStartedError } from './errors.js';
import { normalizeTimestamp, timeMs } from '../shared/values.js';
import type { RecordChargingState } from './commands.js';
import { ChargingStateChanged, chargingStates, type TransactionEvent } from './events.js';
import { checkSameStation, contextOf } from './message-context.js';
import { chargingStatesOf, type TransactionState } from './state.js';

/** A change every 30 s for three days; more means a station reporting in a loop. */
export const chargingStateChangesPerTransactionMax = 10_000;

/**
 * A charging-state change. Stations repeat the current state in many messages (2.0.1 sends
 * chargingState on every Updated; 1.6 repeats statuses after a reconnect): the same state again,
 * at or after the latest change, is not a change. The same state and time again (a retry) is a
 * no-op. An earlier time than the latest change is recorded as late (offline queue). Known limit:
 * a repeat that arrives before an out-of-order change in between is dropped; only offline queues
 * flushed in reverse produce that, and seqNo on the events lets a consumer see it.
 */
export function decideChargingState(command: RecordChargingState, state: TransactionState): TransactionEvent[] {
  if (state.status === 'none') throw new TransactionNotStartedError('transaction has not started', command.type);
  checkSameStation(command.stationId, state.data.stationId, command.type);
  if (!chargingStates.includes(command.state)) throw new InvalidCommandError(`unknown charging state ${String(command.state)}`, command.type);
  const changedAt = normalizeTimestamp(command.changedAt, 'changedAt', command.type);
  const changedAtMs = timeMs(changedAt);
  if (state.status === 'ended' && changedAtMs > state.endedAtMs) {
    throw new IllegalStateError(`charging state changed at ${changedAt}, after the transaction ended`, command.type);
  }
  for (const node of chargingStatesOf(state.chargingStates)) {
    if (node.state === command.state && node.changedAtMs === changedAtMs) return [];
  }
  const latest = state.latestChargingState;
  if (latest && latest.state === command.state && changedAtMs >= latest.changedAtMs) return [];
  if (state.chargingStateCount >= chargingStateChangesPerTransactionMax) {
    throw new IllegalStateError(`transaction already has ${chargingStateChangesPerTransactionMax} charging-state changes`, command.type);
  }
  const late = state.status === 'ended' || (latest !== null && changedAtMs < latest.changedAtMs);
  return [eventFrom(ChargingStateChanged, { state: command.state, changedAt, late, ...contextOf(command, command.type) })];
}
