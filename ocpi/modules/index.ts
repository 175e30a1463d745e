import type { OcpiModule } from '../plugin.js';
import type { PushSource } from '../push/source.js';

/**
 * Every functional OCPI module we serve, mounted by api/server.ts, and every Sender module's
 * push source, fed to the outbox (ocpi/push). Each module adds one import and one entry here.
 */

export const ocpiFunctionalModules: readonly OcpiModule[] = [];

export const ocpiPushSources: readonly PushSource[] = [];
