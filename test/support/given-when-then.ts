import { expect } from 'vitest';
import { fold, type Decider } from '../../domain/shared/decider.js';
import type { DomainEvent } from '../../domain/shared/event.js';

/**
 * Decider tests that read like the rule they check (docs/style.md):
 *   given(decider, [started(...)]).when(recordMeterReading(...)).then([meterReadingRecorded(...)])
 *   given(decider, []).when(stop(...)).thenThrows(IllegalStateError, /no active transaction/)
 */
export function given<Command, State, Event extends DomainEvent>(
  decider: Decider<Command, State, Event>,
  history: readonly Event[],
) {
  const state = fold(decider, history);
  return {
    /** The state the history folds into (for rules about evolve and queries on state). */
    state,
    when(command: Command) {
      const run = () => decider.decide(command, state);
      return {
        then(expected: readonly Event[]): Event[] {
          const events = run();
          expect(events).toEqual(expected);
          return events;
        },
        thenThrows(errorType: new (...args: never[]) => Error, message?: RegExp): void {
          expect(run).toThrow(errorType);
          if (message) expect(run).toThrow(message);
        },
        /** The state after applying what `decide` returned (for rules about evolve). */
        thenState(check: (state: State, events: Event[]) => void): void {
          const events = run();
          check(fold(decider, events, state), events);
        },
      };
    },
  };
}
