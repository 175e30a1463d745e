import { Decimal } from 'decimal.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { normalizeTimestamp, sameJson } from '../shared/values.js';
import type { SetChargingPreferences } from './commands.js';
import { ChargingPreferencesSet, chargingProfileTypes, type TransactionEvent, type TransactionEventData } from './events.js';
import type { TransactionState } from './state.js';

/**
 * The driver's charging preferences (OCPI 2.2.1 sessions, PUT charging_preferences). Only a
 * running session takes them: before the start there is nothing to charge, after the end nothing
 * left to optimise (the OCPI module answers NOT_POSSIBLE). The same preferences again (a partner
 * retrying under a new request id) are not a new fact.
 */
export function decideChargingPreferences(command: SetChargingPreferences, state: TransactionState): TransactionEvent[] {
  if (state.status === 'none') throw new IllegalStateError('transaction has not started', command.type);
  if (state.status === 'ended') throw new IllegalStateError('transaction has ended', command.type);
  const preferences = preferencesOf(command);
  const current = state.chargingPreferences;
  if (current !== null && sameJson({ ...current, setAt: null }, { ...preferences, setAt: null })) return [];
  return [eventFrom(ChargingPreferencesSet, preferences)];
}

function preferencesOf(command: SetChargingPreferences): TransactionEventData<'ChargingPreferencesSet'> {
  if (!chargingProfileTypes.includes(command.profileType)) {
    throw new InvalidCommandError(`unknown profile type ${String(command.profileType)}`, command.type);
  }
  const energyNeed = command.energyNeedKwh ?? null;
  if (energyNeed !== null && (!Decimal.isDecimal(energyNeed) || !energyNeed.isFinite() || energyNeed.isNegative())) {
    throw new InvalidCommandError(`energyNeedKwh must be a finite, non-negative decimal: ${String(energyNeed)}`, command.type);
  }
  const dischargeAllowed = command.dischargeAllowed ?? null;
  if (dischargeAllowed !== null && typeof dischargeAllowed !== 'boolean') {
    throw new InvalidCommandError('dischargeAllowed must be a boolean', command.type);
  }
  return {
    profileType: command.profileType,
    departureTime: command.departureTime == null ? null : normalizeTimestamp(command.departureTime, 'departureTime', command.type),
    energyNeedKwh: energyNeed === null ? null : energyNeed.toFixed(),
    dischargeAllowed,
    setAt: normalizeTimestamp(command.setAt, 'setAt', command.type),
  };
}
