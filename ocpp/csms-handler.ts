import { memoryActiveTransactions } from './translate/shared/active-transactions.js';
import { createAdmissionControl } from './translate/shared/admission.js';
import { toOcppCallError } from './translate/shared/errors.js';
import { domainOcppVersion, Translation, type TranslatorDeps } from './translate/shared/context.js';
import { translate16 } from './translate/v16/index.js';
import { translate201 } from './translate/v201/index.js';
import type { BootStatus } from '../domain/station/events.js';
import type { CallContext, DisconnectReason, OcppHandler } from './types.js';

export type { TranslatorDeps as CsmsOcppHandlerDeps, UnrecordedMessage } from './translate/shared/context.js';
export type { UnknownTokenPolicy, TokenLookup } from './translate/shared/authorization.js';
export type { DataTransferHandler } from './translate/shared/data-transfer.js';
export type { ActiveTransactions } from './translate/shared/active-transactions.js';
export { stationStandingsRememberedMax } from './translate/shared/admission.js';

/**
 * The OcppHandler of the CSMS: connection events and station CALLs become domain commands through
 * the command bus, per version; nothing past this point knows OCPP versions (docs/design.md, "OCPP gateway").
 *
 * Wiring: `ocppGatewayPlugin({ handler: createCsmsOcppHandler({ bus, eventStore, clock, transactionIds,
 * defaultTenantId, registrationPolicy, ... }), authenticateStation })`.
 */
export function createCsmsOcppHandler(
  handlerDeps: TranslatorDeps & {
    /** This node's NODE_ID, recorded with each connection so a restart settles only its own (api/settle-node.ts). */
    readonly nodeId?: string;
  },
): OcppHandler {
  // One connector→transaction memory per handler, shared by all its calls (1.6 charging states).
  const deps: TranslatorDeps = { ...handlerDeps, activeTransactions: handlerDeps.activeTransactions ?? memoryActiveTransactions() };
  // The connection id is the gateway's (ConnectionContext.connectionId), the one its calls carry too:
  // one id per socket for the connect/disconnect events, the boot's command id and admission.
  // Who may send what before being accepted (Pending/Rejected/unauthenticated): shared/admission.ts.
  const admission = createAdmissionControl(deps.eventStore);
  const tenantOf = (ctx: { tenantId?: string }) => ctx.tenantId ?? deps.defaultTenantId;

  return {
    async onConnected(ctx) {
      const { connectionId } = ctx;
      const now = deps.clock.now().toISOString();
      await deps.bus.send({
        commandId: `${ctx.stationId}:connect:${connectionId}`,
        tenantId: tenantOf(ctx),
        aggregateId: ctx.stationId,
        actor: `station:${ctx.stationId}`,
        correlationId: connectionId,
        occurredAt: now,
        command: {
          type: 'ConnectStation',
          connectionId,
          ocppVersion: domainOcppVersion(ctx.ocppVersion),
          connectedAt: now,
          ...(handlerDeps.nodeId === undefined ? {} : { nodeId: handlerDeps.nodeId }),
        },
      });
    },

    async onDisconnected(ctx, reason: DisconnectReason) {
      // A close whose connect was never recorded (or a second close) is a no-op in the decider:
      // it ignores a connection id that is not the station's current one.
      const { connectionId } = ctx;
      const now = deps.clock.now().toISOString();
      await deps.bus.send({
        commandId: `${ctx.stationId}:disconnect:${connectionId}`,
        tenantId: tenantOf(ctx),
        aggregateId: ctx.stationId,
        actor: `station:${ctx.stationId}`,
        correlationId: connectionId,
        occurredAt: now,
        command: { type: 'DisconnectStation', connectionId, reason, disconnectedAt: now },
      });
    },

    async handleCall(ctx: CallContext, action: string, payload: unknown) {
      const translation = new Translation(deps, ctx, action, payload);
      deps.onStationSeen?.(translation.tenantId, ctx.stationId, deps.clock.now());
      try {
        // Before translating: a refused CALL must record nothing, allocate nothing.
        await admission.check(translation);
        const answer = ctx.ocppVersion === 'ocpp1.6' ? await translate16(translation) : await translate201(translation);
        if (action === 'BootNotification') admission.booted(translation, (answer as { status: BootStatus }).status);
        return answer;
      } catch (error) {
        throw toOcppCallError(error);
      }
    },
  };
}
