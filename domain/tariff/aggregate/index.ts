import type { Decider } from '../../shared/decider.js';
import type { TariffCommand } from './commands.js';
import { decideTariff } from './decide.js';
import { tariffAggregateType, type TariffEvent } from './events.js';
import { evolveTariff, initialTariffState, type TariffState } from './state.js';

/** One stream per OCPI tariff: `tariff-<tenantId>-<tariffId>`; attachments per scope (scope.ts). */
export const tariffDecider: Decider<TariffCommand, TariffState, TariffEvent> = {
  aggregateType: tariffAggregateType,
  initialState: initialTariffState,
  decide: decideTariff,
  evolve: evolveTariff,
};

export * from './commands.js';
export { decideTariff } from './decide.js';
export * from './events.js';
export * from './lookup.js';
export * from './scope.js';
export * from './scope-decider.js';
export * from './state.js';
