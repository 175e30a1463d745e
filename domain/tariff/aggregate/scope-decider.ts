import { assertNever, invariant } from '../../shared/assert.js';
import type { Decider } from '../../shared/decider.js';
import { eventFrom } from '../../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../shared/errors.js';
import { normalizeTimestamp, sameJson, timeMs } from '../../shared/values.js';
import { tariffIdSchema } from './events.js';
import {
  TariffAttached,
  TariffDetached,
  tariffScopeAggregateType,
  tariffScopeSchema,
  type TariffScope,
  type TariffScopeCommand,
  type TariffScopeEvent,
} from './scope.js';

/** Changes of one scope's tariff: newest last. Attach/detach times never go backwards. */
export interface ScopeChange {
  readonly tariffId: string | null;
  readonly at: string;
}

export interface TariffScopeState {
  readonly scope: TariffScope | null;
  readonly changes: readonly ScopeChange[];
}

/** Attachments per scope kept in the stream; a price change is a tariff version, not a re-attach. */
export const scopeChangesMax = 10_000;

export const initialTariffScopeState = (): TariffScopeState => ({ scope: null, changes: [] });

export function evolveTariffScope(state: TariffScopeState, event: TariffScopeEvent): TariffScopeState {
  switch (event.type) {
    case 'TariffAttached':
      return { scope: event.data.scope, changes: [...state.changes, { tariffId: event.data.tariffId, at: event.data.attachedAt }] };
    case 'TariffDetached':
      invariant(state.changes.at(-1)?.tariffId === event.data.tariffId, `detached ${event.data.tariffId}, which was not attached`);
      return { scope: event.data.scope, changes: [...state.changes, { tariffId: null, at: event.data.detachedAt }] };
    default:
      return assertNever(event, 'tariff scope event');
  }
}

/** The tariff attached to the scope at `at` (a session's start), or null. */
export function attachedTariffAt(changes: readonly ScopeChange[], at: string): string | null {
  const atMs = timeMs(at);
  let tariffId: string | null = null;
  for (const change of changes) if (timeMs(change.at) <= atMs) tariffId = change.tariffId;
  return tariffId;
}

function checkTime(state: TariffScopeState, at: string, commandType: string): void {
  const last = state.changes.at(-1);
  // Attaching in the past would re-price sessions already priced; CDRs are never re-priced silently.
  if (last && timeMs(at) < timeMs(last.at)) throw new IllegalStateError(`${at} is before the scope's last change at ${last.at}`, commandType);
  if (state.changes.length >= scopeChangesMax) throw new IllegalStateError(`scope has ${scopeChangesMax} changes`, commandType);
}

export function decideTariffScope(command: TariffScopeCommand, state: TariffScopeState): TariffScopeEvent[] {
  const scope = tariffScopeSchema.safeParse(command.scope);
  if (!scope.success) throw new InvalidCommandError(`invalid scope: ${scope.error.message}`, command.type);
  if (state.scope !== null && !sameJson(state.scope, scope.data)) throw new InvalidCommandError('scope differs from this stream\'s scope', command.type);
  const current = state.changes.at(-1)?.tariffId ?? null;
  switch (command.type) {
    case 'AttachTariff': {
      if (!tariffIdSchema.safeParse(command.tariffId).success) throw new InvalidCommandError('tariffId must be 1 to 36 characters', command.type);
      const attachedAt = normalizeTimestamp(command.attachedAt, 'attachedAt', command.type);
      if (current === command.tariffId) return [];
      checkTime(state, attachedAt, command.type);
      return [eventFrom(TariffAttached, { tariffId: command.tariffId, scope: scope.data, attachedAt })];
    }
    case 'DetachTariff': {
      const detachedAt = normalizeTimestamp(command.detachedAt, 'detachedAt', command.type);
      if (current === null) return [];
      checkTime(state, detachedAt, command.type);
      return [eventFrom(TariffDetached, { tariffId: current, scope: scope.data, detachedAt })];
    }
    default:
      return assertNever(command, 'tariff scope command');
  }
}

export const tariffScopeDecider: Decider<TariffScopeCommand, TariffScopeState, TariffScopeEvent> = {
  aggregateType: tariffScopeAggregateType,
  initialState: initialTariffScopeState,
  decide: decideTariffScope,
  evolve: evolveTariffScope,
};
