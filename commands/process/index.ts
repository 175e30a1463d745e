/** Process managers: command-side subscribers that turn events into further commands. */
export { billingConfigDefault, billingConfigFor, billingConfigOf, cpoPartyDefault, type BillingConfig, type CdrSite, type CdrSiteLookup, type OcpiPartyId } from './billing-config.js';
export { billTransaction, completeCredit, endedSessionOf, postCdrEntry, billingActor } from './billing-steps.js';
export { buildCdr, cdrIdForTransaction, creditCdrIdFor } from './cdr-builder.js';
export { catchUpCdrIssuer, cdrIssuerName, handleBillingEvent, startCdrIssuer } from './cdr-issuer.js';
export { memoryCheckpoint, postgresCheckpoint, type CheckpointStore } from './checkpoint.js';
export { meterSamplesOf, usageStateOf } from './session-samples.js';
export { findTariffInForce, scopesOf } from './tariff-lookup.js';
