import { assertNever } from '../../shared/assert.js';
import type { StationOperationEvent, StationOperationFailure } from './events.js';

export type StationOperationState =
  | { readonly status: 'none' }
  | { readonly status: 'requested'; readonly operationId: string; readonly stationId: string; readonly name: string }
  | { readonly status: 'answered'; readonly operationId: string; readonly stationId: string; readonly name: string; readonly stationStatus: string | null }
  | { readonly status: 'failed'; readonly operationId: string; readonly stationId: string; readonly name: string; readonly reason: StationOperationFailure };

export const initialStationOperationState = (): StationOperationState => ({ status: 'none' });

export function evolveStationOperation(state: StationOperationState, event: StationOperationEvent): StationOperationState {
  switch (event.type) {
    case 'StationOperationRequested':
      return { status: 'requested', operationId: event.data.operationId, stationId: event.data.stationId, name: event.data.operation.name };
    case 'StationOperationAnswered':
      if (state.status === 'none') return state; // unreachable: decide never answers an operation not requested
      return { status: 'answered', operationId: state.operationId, stationId: state.stationId, name: state.name, stationStatus: event.data.status };
    case 'StationOperationFailed':
      if (state.status === 'none') return state;
      return { status: 'failed', operationId: state.operationId, stationId: state.stationId, name: state.name, reason: event.data.reason };
    default:
      return assertNever(event, 'station operation event');
  }
}
