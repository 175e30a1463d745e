import type { Clock } from '../adapters/clock/clock.js';
import type { EventStore } from '../adapters/event-store/port.js';
import { InvalidCommandError } from '../domain/shared/errors.js';
import { cdrCommandTypes, cdrDecider, type CdrCommand } from '../domain/cdr/index.js';
import { ledgerCommandTypes, ledgerDecider, type LedgerCommand } from '../domain/ledger/index.js';
import { locationCommandTypes, locationDecider, type LocationCommand } from '../domain/location/index.js';
import { partnerCommandTypes, partnerDecider, type PartnerCommand } from '../domain/partner/index.js';
import { settlementCommandTypes, settlementDecider, type SettlementCommand } from '../domain/settlement/index.js';
import {
  remoteStartCommandTypes,
  remoteStartDecider,
  reservationCommandTypes,
  reservationDecider,
  stationCommandTypes,
  stationDecider,
  stationOperationCommandTypes,
  stationOperationDecider,
  type RemoteStartCommand,
  type ReservationCommand,
  type StationCommand,
  type StationOperationCommand,
} from '../domain/station/index.js';
import {
  tariffCommandTypes,
  tariffDecider,
  tariffScopeCommandTypes,
  tariffScopeDecider,
  type TariffCommand,
  type TariffScopeCommand,
} from '../domain/tariff/aggregate/index.js';
import { tokenCommandTypes, tokenDecider, type TokenCommand } from '../domain/token/index.js';
import { transactionCommandTypes, transactionDecider, type TransactionCommand } from '../domain/transaction/index.js';
import type { CommandEnvelope, CommandResult } from './envelope.js';
import { createCommandHandler, type CommandHandler, type CommandHandlerOptions } from './handler.js';

export type Command =
  | StationCommand
  | StationOperationCommand
  | RemoteStartCommand
  | ReservationCommand
  | TransactionCommand
  | TokenCommand
  | CdrCommand
  | LedgerCommand
  | SettlementCommand
  | TariffCommand
  | TariffScopeCommand
  | PartnerCommand
  | LocationCommand;
export type CommandType = Command['type'];

/**
 * Commands handled at once per node. Each holds a stream read and an append on the database;
 * beyond the connection pool's size more in flight only queue inside the driver, and a
 * reconnect storm (thousands of stations booting together) must not exhaust it.
 */
export const commandsInFlightMax = 64;
/** Commands accepted and waiting; beyond this `send` refuses fast so gateways can answer "busy". */
export const commandsPendingMax = 10_000;

export class CommandBusOverloadedError extends Error {
  override readonly name = 'CommandBusOverloadedError';
  constructor(readonly pending: number) {
    super(`command bus overloaded: ${pending} commands pending`);
  }
}

export interface CommandBus {
  send(envelope: CommandEnvelope<Command>): Promise<CommandResult>;
  /** Commands accepted and not yet finished. */
  pending(): number;
}

export interface CommandBusDeps {
  readonly eventStore: EventStore;
  readonly clock: Clock;
  readonly options?: CommandHandlerOptions & { readonly inFlightMax?: number; readonly pendingMax?: number };
}

/**
 * Routes each command by its type to its aggregate's handler. Commands to one stream run one
 * after another on this node: a station flushing its offline queue sends a burst of meter
 * values to one transaction, which would otherwise conflict with itself and burn retries.
 * Different streams run concurrently, up to `commandsInFlightMax`.
 */
export function createCommandBus(deps: CommandBusDeps): CommandBus {
  const handlerDeps = { eventStore: deps.eventStore, clock: deps.clock, options: deps.options };
  const station = createCommandHandler(stationDecider, handlerDeps);
  const transaction = createCommandHandler(transactionDecider, handlerDeps);
  const token = createCommandHandler(tokenDecider, handlerDeps);
  const stationOperation = createCommandHandler(stationOperationDecider, handlerDeps);
  const remoteStart = createCommandHandler(remoteStartDecider, handlerDeps);
  const reservation = createCommandHandler(reservationDecider, handlerDeps);
  const cdr = createCommandHandler(cdrDecider, handlerDeps);
  const ledger = createCommandHandler(ledgerDecider, handlerDeps);
  const settlement = createCommandHandler(settlementDecider, handlerDeps);
  const tariff = createCommandHandler(tariffDecider, handlerDeps);
  const tariffScope = createCommandHandler(tariffScopeDecider, handlerDeps);
  const partner = createCommandHandler(partnerDecider, handlerDeps);
  const location = createCommandHandler(locationDecider, handlerDeps);
  const routes = new Map<string, { aggregateType: string; handle: CommandHandler<Command> }>();
  const route = (types: readonly string[], aggregateType: string, handle: CommandHandler<never>) => {
    for (const type of types) {
      if (routes.has(type)) throw new Error(`command type routed twice: ${type}`);
      routes.set(type, { aggregateType, handle: handle as CommandHandler<Command> });
    }
  };
  route(stationCommandTypes, stationDecider.aggregateType, station);
  route(transactionCommandTypes, transactionDecider.aggregateType, transaction);
  route(tokenCommandTypes, tokenDecider.aggregateType, token);
  route(stationOperationCommandTypes, stationOperationDecider.aggregateType, stationOperation);
  route(remoteStartCommandTypes, remoteStartDecider.aggregateType, remoteStart);
  route(reservationCommandTypes, reservationDecider.aggregateType, reservation);
  route(cdrCommandTypes, cdrDecider.aggregateType, cdr);
  route(ledgerCommandTypes, ledgerDecider.aggregateType, ledger);
  route(settlementCommandTypes, settlementDecider.aggregateType, settlement);
  route(tariffCommandTypes, tariffDecider.aggregateType, tariff);
  route(tariffScopeCommandTypes, tariffScopeDecider.aggregateType, tariffScope);
  route(partnerCommandTypes, partnerDecider.aggregateType, partner);
  route(locationCommandTypes, locationDecider.aggregateType, location);

  const inFlightMax = deps.options?.inFlightMax ?? commandsInFlightMax;
  const pendingMax = deps.options?.pendingMax ?? commandsPendingMax;
  const slotWaiters: (() => void)[] = [];
  let inFlight = 0;
  let pending = 0;
  const streamTails = new Map<string, Promise<unknown>>();

  async function withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (inFlight < inFlightMax) inFlight += 1;
    else await new Promise<void>((resolve) => slotWaiters.push(resolve)); // the releaser hands its slot over
    try {
      return await work();
    } finally {
      const next = slotWaiters.shift();
      if (next) next();
      else inFlight -= 1;
    }
  }

  return {
    pending: () => pending,
    async send(envelope) {
      const target = routes.get(envelope?.command?.type);
      if (!target) throw new InvalidCommandError(`unknown command type ${String(envelope?.command?.type)}`);
      if (pending >= pendingMax) throw new CommandBusOverloadedError(pending);
      pending += 1;
      const key = `${target.aggregateType}\n${envelope.tenantId}\n${envelope.aggregateId}`;
      const previous = streamTails.get(key) ?? Promise.resolve();
      const run = previous.then(() => withSlot(() => target.handle(envelope)));
      const tail = run.then(
        () => undefined,
        () => undefined,
      );
      streamTails.set(key, tail);
      try {
        return await run;
      } finally {
        pending -= 1;
        if (streamTails.get(key) === tail) streamTails.delete(key);
      }
    },
  };
}
