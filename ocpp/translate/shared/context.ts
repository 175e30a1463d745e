import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Clock } from '../../../adapters/clock/clock.js';
import type { EventStore } from '../../../adapters/event-store/port.js';
import type { Command, CommandBus } from '../../../commands/bus.js';
import type { CommandResult } from '../../../commands/envelope.js';
import type { RegistrationPolicy } from '../../../domain/station/commands.js';
import type { OcppVersion as DomainOcppVersion } from '../../../domain/shared/values.js';
import type { CallContext, OcppVersion } from '../../types.js';
import type { ActiveTransactions } from './active-transactions.js';
import type { RealtimeAuthorizer, TokenLookup, UnknownTokenPolicy } from './authorization.js';
import type { DataTransferHandler } from './data-transfer.js';
import type { TransactionIdAllocator } from '../../transaction-ids.js';

// canonicalize ships CommonJS with an ESM-style .d.ts; load it as what it is (as adapters/event-store/hash.ts does).
const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined;

/** Default heartbeat interval answered to an Accepted BootNotification (OCPP 1.6 §4.2, 2.0.1 B01). */
export const heartbeatIntervalSecondsDefault = 300;
/** Answered as `interval` with Pending/Rejected: the least wait before the next BootNotification. */
export const bootRetryIntervalSecondsDefault = 60;

/** What a station's message did not get recorded, for the log: the domain has no place for it yet. */
export interface UnrecordedMessage {
  readonly tenantId: string;
  readonly stationId: string;
  readonly action: string;
  readonly messageId: string;
  readonly why: string;
}

/** Everything the translators need; `createCsmsOcppHandler` takes the same. */
export interface TranslatorDeps {
  readonly bus: CommandBus;
  /** Read side for the command-adjacent lookups (tokens, transactions); only command code reads streams. */
  readonly eventStore: EventStore;
  readonly clock: Clock;
  readonly transactionIds: TransactionIdAllocator;
  /** Tenant of stations whose authentication did not name one. Must not contain '-'. */
  readonly defaultTenantId: string;
  readonly registrationPolicy: RegistrationPolicy;
  readonly heartbeatIntervalSeconds?: number;
  readonly bootRetryIntervalSeconds?: number;
  readonly unknownTokenPolicy?: UnknownTokenPolicy;
  /** Replaces the default stream lookup (token id = the uid as sent). */
  readonly tokenLookup?: TokenLookup;
  /** OCPI real-time authorization with the token's eMSP; absent: our copy and the unknown-token policy decide. */
  readonly realtimeAuthorizer?: RealtimeAuthorizer;
  /** DataTransfer handlers by vendorId; any other vendor gets UnknownVendorId. */
  readonly dataTransferHandlers?: Readonly<Record<string, DataTransferHandler>>;
  /**
   * Forwards a station CSR (SignCertificate) to a CA; resolves true when it was accepted for
   * signing (the CertificateSigned call follows later). Absent: every CSR is Rejected.
   */
  readonly signCertificate?: (request: { tenantId: string; stationId: string; csr: string; certificateType: string | null }) => Promise<boolean>;
  /** Every CALL from a station: the place for last-seen/presence (not an event per heartbeat). */
  readonly onStationSeen?: (tenantId: string, stationId: string, at: Date) => void;
  /** 1.6: the transaction running on a connector (default: this process's memory, see active-transactions.ts). */
  readonly activeTransactions?: ActiveTransactions;
  /** Messages answered but not recorded, because the domain has no command for them (yet). */
  readonly onUnrecorded?: (message: UnrecordedMessage) => void;
}

/** One CALL being translated: its ids, and the helpers every message handler needs. */
export class Translation {
  readonly tenantId: string;
  readonly stationId: string;
  readonly actor: string;

  constructor(
    readonly deps: TranslatorDeps,
    readonly call: CallContext,
    readonly action: string,
    readonly payload: unknown,
  ) {
    this.tenantId = call.tenantId ?? deps.defaultTenantId;
    this.stationId = call.stationId;
    this.actor = `station:${call.stationId}`;
  }

  get domainVersion(): DomainOcppVersion {
    return domainOcppVersion(this.call.ocppVersion);
  }

  nowIso(): string {
    return this.deps.clock.now().toISOString();
  }

  /**
   * A command id stable across retries of this input. By default the message id and the content:
   * the same CALL again is the same command (nothing appended, same answer), while a station that
   * restarts its message ids after a reboot does not get an old answer for a new message. With
   * `contentOnly` (transaction messages, which carry their own station times) a retry under a new
   * message id after a reconnect is recognised as well.
   */
  commandId(part: string, options: { contentOnly?: boolean } = {}): string {
    const identity = options.contentOnly ? [this.action, this.payload] : [this.call.messageId, this.action, this.payload];
    const digest = createHash('sha256').update(canonicalize(identity) ?? '').digest('base64url').slice(0, 27);
    // ≤ 48 (station id) + 27 + 35 (action) + part: well inside envelopeIdLengthMax (200).
    return `${this.stationId}:${this.action}:${digest}:${part}`;
  }

  /** Sends one command for this CALL; refusals propagate (the caller maps them, see errors.ts). */
  send(command: Command, aggregateId: string, commandId: string, occurredAt?: string): Promise<CommandResult> {
    return this.deps.bus.send({
      commandId,
      tenantId: this.tenantId,
      aggregateId,
      actor: this.actor,
      correlationId: this.call.messageId,
      occurredAt: occurredAt ?? this.nowIso(),
      command,
    });
  }

  unrecorded(why: string): void {
    this.deps.onUnrecorded?.({ tenantId: this.tenantId, stationId: this.stationId, action: this.action, messageId: this.call.messageId, why });
  }
}

export function domainOcppVersion(version: OcppVersion): DomainOcppVersion {
  return version === 'ocpp1.6' ? '1.6' : '2.0.1';
}

/** The first event of a type among a command's result (also on a duplicate: the original events). */
export function eventData<T>(result: CommandResult, type: string): T | undefined {
  return result.events.find((event) => event.type === type)?.data as T | undefined;
}
