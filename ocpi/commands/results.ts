import type { StationCommandOutcome } from '../ports.js';
import type { CommandResult, CommandResultType, CommandType } from '../schemas/commands.js';
import { displayText } from './async-results.js';

/**
 * The station's answer as an OCPI CommandResult. Status words are both OCPP versions' (1.6 and
 * 2.0.1 share them for these actions, 2.0.1 adds a few); a word we do not know is FAILED with
 * the word in the message, never ACCEPTED.
 */

const byCommand: Record<CommandType, Readonly<Record<string, CommandResultType>>> = {
  START_SESSION: { Accepted: 'ACCEPTED', Rejected: 'REJECTED' },
  STOP_SESSION: { Accepted: 'ACCEPTED', Rejected: 'REJECTED' },
  RESERVE_NOW: { Accepted: 'ACCEPTED', Faulted: 'EVSE_INOPERATIVE', Occupied: 'EVSE_OCCUPIED', Rejected: 'REJECTED', Unavailable: 'EVSE_INOPERATIVE' },
  // A station that does not know the reservation answers Rejected (OCPP 1.6 §6.4, 2.0.1 H02).
  CANCEL_RESERVATION: { Accepted: 'CANCELED_RESERVATION', Rejected: 'UNKNOWN_RESERVATION' },
  UNLOCK_CONNECTOR: {
    Unlocked: 'ACCEPTED',
    UnlockFailed: 'FAILED',
    NotSupported: 'NOT_SUPPORTED',
    OngoingAuthorizedTransaction: 'EVSE_OCCUPIED',
    UnknownConnector: 'REJECTED',
  },
};

export function commandResultOf(command: CommandType, outcome: StationCommandOutcome): CommandResult {
  if (outcome.outcome === 'answered') {
    const result = outcome.status === null ? undefined : byCommand[command][outcome.status];
    if (result !== undefined) return { result };
    return { result: 'FAILED', message: displayText(`the station answered ${outcome.status ?? 'without a status'}`) };
  }
  switch (outcome.reason) {
    case 'timeout':
      return { result: 'TIMEOUT', message: displayText(outcome.message) };
    case 'rejected-call':
      // OCPP CALLERROR NotImplemented/NotSupported: the station has no such command.
      if (/\bNot(Implemented|Supported)\b/.test(outcome.message)) return { result: 'NOT_SUPPORTED', message: displayText(outcome.message) };
      return { result: 'REJECTED', message: displayText(outcome.message) };
    case 'invalid':
      return { result: 'REJECTED', message: displayText(outcome.message) };
    case 'not-connected':
    case 'other':
      return { result: 'FAILED', message: displayText(outcome.message) };
  }
}
