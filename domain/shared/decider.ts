import type { DomainEvent } from './event.js';

/**
 * An aggregate as a decider (docs/design.md): pure functions, no clock, ids or I/O. The command
 * carries everything from outside (time, ids); `decide` throws IllegalStateError or
 * InvalidCommandError to refuse a command and returns the events that happened otherwise.
 */
export interface Decider<Command, State, Event extends DomainEvent> {
  readonly aggregateType: string;
  initialState(): State;
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
}

/** Folds events into state: what a command handler does after reading a stream. */
export function fold<Command, State, Event extends DomainEvent>(
  decider: Decider<Command, State, Event>,
  events: readonly Event[],
  from: State = decider.initialState(),
): State {
  return events.reduce((state, event) => decider.evolve(state, event), from);
}
