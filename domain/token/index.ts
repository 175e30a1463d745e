import type { Decider } from '../shared/decider.js';
import type { TokenCommand } from './commands.js';
import { decideToken } from './decide.js';
import { tokenAggregateType, type TokenEvent } from './events.js';
import { evolveToken, initialTokenState, type TokenState } from './state.js';

export const tokenDecider: Decider<TokenCommand, TokenState, TokenEvent> = {
  aggregateType: tokenAggregateType,
  initialState: initialTokenState,
  decide: decideToken,
  evolve: evolveToken,
};

export * from './commands.js';
export * from './events.js';
export { decideToken } from './decide.js';
export * from './state.js';
