import type { OcpiModule } from '../plugin.js';
import type { PushSource } from '../push/source.js';
import { cdrsModule } from '../cdrs/module.js';
import { cdrsPushSource } from '../cdrs/push.js';
import { chargingProfilesModule } from '../charging-profiles/module.js';
import { commandsModule } from '../commands/module.js';
import { hubClientInfoModule } from '../hub-client-info/module.js';
import { locationsModule } from '../locations/module.js';
import { locationsPushSource } from '../locations/push.js';
import { sessionsModule } from '../sessions/module.js';
import { sessionsPushSource } from '../sessions/push.js';
import { tariffsModule } from '../tariffs/module.js';
import { tariffsPushSource } from '../tariffs/push.js';
import { tokensModule } from '../tokens/module.js';

/**
 * Every functional OCPI module we serve, mounted by api/server.ts, and every Sender module's
 * push source, fed to the outbox (ocpi/push). Each module adds one import and one entry here.
 */

export const ocpiFunctionalModules: readonly OcpiModule[] = [tariffsModule, cdrsModule, commandsModule, chargingProfilesModule, hubClientInfoModule, locationsModule, tokensModule, sessionsModule];

export const ocpiPushSources: readonly PushSource[] = [tariffsPushSource, cdrsPushSource, locationsPushSource, sessionsPushSource];
