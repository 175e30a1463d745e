/** What gateways (OCPP, OCPI, GraphQL/REST, CLI) call to change the system. */
export { createCommandBus, CommandBusOverloadedError, commandsInFlightMax, commandsPendingMax } from './bus.js';
export type { Command, CommandBus, CommandBusDeps, CommandType } from './bus.js';
export {
  commandRetryAttemptsMax,
  commandRetryDelayBaseMs,
  commandRetryDelayMaxMs,
  createCommandHandler,
  eventIdFor,
  eventIdNamespace,
  streamEventsMax,
  streamReadPageSizeMax,
} from './handler.js';
export type { CommandHandler, CommandHandlerDeps, CommandHandlerOptions } from './handler.js';
export { checkEnvelope, envelopeIdLengthMax } from './envelope.js';
export type { CommandEnvelope, CommandResult } from './envelope.js';
