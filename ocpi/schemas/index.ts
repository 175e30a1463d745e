/**
 * OCPI 2.2.1 object definitions as zod schemas, written from the specification: every object we
 * send or receive is checked against these (field lengths, enums, required fields).
 */
export * from './primitives.js';
export * as ocpiSchemaLimits from './limits.js';
export * from './locations.js';
export * from './sessions.js';
export * from './cdrs.js';
export * from './tariffs.js';
export * from './tokens.js';
export * from './commands.js';
export * from './charging-profiles.js';
export * from './hub-client-info.js';
export * from './versions.js';
export * from './credentials.js';
