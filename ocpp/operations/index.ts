/**
 * CSMS→station operations, version-neutral: see README.md. Wire with the gateway's StationCaller
 * (`fastify.ocppStations`), the command bus and the event store.
 */
export { createStationOperations, stationOperationTimeoutMsMax } from './run.js';
export type { RunOptions, StationOperationCommandSender, StationOperationResult, StationOperations, StationOperationsDeps } from './run.js';
export { ocppRequestFor, requestIdFor } from './mapping.js';
export type { MappingContext, OcppRequest } from './mapping.js';
export { stationOperationNames, transactionIdsIn } from './operations.js';
export type * from './operations.js';
export { parseConfigurationKey, type VariableAddress } from './settings.js';
export { createTransactionLookup, type StationTransaction, type TransactionLookup } from './transactions.js';
