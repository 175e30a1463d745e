import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { isoTimestamp, ocppVersions } from '../shared/values.js';
import { StationMessageRefused } from './refusals.js';
import { stationReportEventDefinitions } from './report-events.js';

export * from './report-events.js';
export * from './refusals.js';

/**
 * Events of the `station` aggregate (stream `station-<tenant>-<stationId>`). The station id is the
 * stream's id part (parseStreamName), so the data does not repeat it except at registration.
 * Times are the station's clock (normalized ISO-8601 UTC), as the station reported them.
 */

export const stationAggregateType = 'station';

/** Longest node id (NODE_ID, default the host name: at most 64 characters on Linux, 253 as a DNS name). */
export const nodeIdCharsMax = 100;

/** OCPP security profiles; 0 means no authentication (development only). */
export const securityProfileSchema = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]);
export type SecurityProfile = z.infer<typeof securityProfileSchema>;

export const bootStatuses = ['Accepted', 'Pending', 'Rejected'] as const;
export type BootStatus = (typeof bootStatuses)[number];

/**
 * Union of OCPP 1.6 ChargePointStatus and 2.0.1 ConnectorStatusEnumType. The 1.6 detail
 * (Preparing, Charging...) is kept; 2.0.1 reports the coarser Occupied.
 */
export const connectorStatuses = [
  'Available',
  'Occupied',
  'Preparing',
  'Charging',
  'SuspendedEVSE',
  'SuspendedEV',
  'Finishing',
  'Reserved',
  'Unavailable',
  'Faulted',
] as const;
export type ConnectorStatus = (typeof connectorStatuses)[number];

/** Statuses in which a vehicle is plugged in or a transaction runs: availability changes wait. */
export const occupiedStatuses: ReadonlySet<ConnectorStatus> = new Set([
  'Occupied',
  'Preparing',
  'Charging',
  'SuspendedEVSE',
  'SuspendedEV',
  'Finishing',
]);

export const availabilities = ['Operative', 'Inoperative'] as const;
export type Availability = (typeof availabilities)[number];

const statusReportFields = {
  status: z.enum(connectorStatuses),
  /** OCPP 1.6 ChargePointErrorCode; 1.6 'NoError' and 2.0.1 (which has none) are null. */
  errorCode: z.string().max(50).nullable(),
  info: z.string().max(500).nullable(),
  vendorId: z.string().max(255).nullable(),
  vendorErrorCode: z.string().max(50).nullable(),
  /** Station time of the report. */
  statusAt: isoTimestamp,
};

export const StationRegistered = defineEvent({
  type: 'StationRegistered',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    stationId: z.string().min(1).max(48),
    securityProfile: securityProfileSchema,
    /** Hash of the basic-auth password (profiles 1 and 2), made outside the domain; never the password. */
    passwordHash: z.string().min(1).nullable(),
  }),
});

export const StationSecurityChanged = defineEvent({
  type: 'StationSecurityChanged',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({ securityProfile: securityProfileSchema, passwordHash: z.string().min(1).nullable() }),
});

export const StationBooted = defineEvent({
  type: 'StationBooted',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    vendor: z.string().min(1).max(50),
    model: z.string().min(1).max(50),
    serialNumber: z.string().max(50).nullable(),
    firmwareVersion: z.string().max(50).nullable(),
    ocppVersion: z.enum(ocppVersions),
    /** OCPP 2.0.1 BootReasonEnumType; null for 1.6. */
    bootReason: z.string().max(50).nullable(),
    /** What the CSMS answered, decided by the registration policy in the command. */
    bootStatus: z.enum(bootStatuses),
    /** Whether the station had been registered by an operator when it booted. */
    registered: z.boolean(),
    bootedAt: isoTimestamp,
  }),
});

export const StationConnected = defineEvent({
  type: 'StationConnected',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** Assigned by the gateway per WebSocket, so a late close of an old socket is recognised. */
    connectionId: z.string().min(1).max(100),
    ocppVersion: z.enum(ocppVersions),
    connectedAt: isoTimestamp,
    /**
     * The CSMS node holding the socket (NODE_ID). Optional rather than a v2 with an upcaster: events
     * stored before nodes were recorded stay valid as they are, and "unknown node" is all an
     * upcaster could say about them anyway.
     */
    nodeId: z.string().min(1).max(nodeIdCharsMax).optional(),
  }),
});

export const StationDisconnected = defineEvent({
  type: 'StationDisconnected',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    connectionId: z.string().min(1).max(100),
    reason: z.string().max(500).nullable(),
    disconnectedAt: isoTimestamp,
  }),
});

export const ConnectorDeclared = defineEvent({
  type: 'ConnectorDeclared',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** ≥ 1. OCPP 1.6 has no EVSEs: gateways map 1.6 connector n to EVSE n, connector 1. */
    evseId: z.number().int().min(1),
    connectorId: z.number().int().min(1),
    /** OCPP 2.0.1 ConnectorEnumType or OCPI ConnectorType, when known. */
    connectorType: z.string().max(50).nullable(),
    /** 'operator' when declared, 'status' when discovered from a status notification. */
    source: z.enum(['operator', 'status']),
  }),
});

export const ConnectorStatusChanged = defineEvent({
  type: 'ConnectorStatusChanged',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({ evseId: z.number().int().min(1), connectorId: z.number().int().min(1), ...statusReportFields }),
});

/** Status of the station itself: OCPP 1.6 connector 0 (2.0.1 reports no such status). */
export const StationStatusChanged = defineEvent({
  type: 'StationStatusChanged',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object(statusReportFields),
});

export const AvailabilityChanged = defineEvent({
  type: 'AvailabilityChanged',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** Scope: evseId 0 = the whole station; connectorId 0 = the whole EVSE. */
    evseId: z.number().int().min(0),
    connectorId: z.number().int().min(0),
    availability: z.enum(availabilities),
    /**
     * True: requested while a connector in scope was occupied, so it takes effect when they are all
     * free (OCPP ChangeAvailability 'Scheduled'); a later event with false records that moment.
     */
    scheduled: z.boolean(),
  }),
});

export const StationConfigurationChanged = defineEvent({
  type: 'StationConfigurationChanged',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** 1.6 configuration key, or a 2.0.1 component/variable rendered by `configurationKey`. */
    key: z.string().min(1).max(500),
    /** null: the station reports the key without a value (unknown or write-only). */
    value: z.string().max(2500).nullable(),
    readonly: z.boolean().nullable(),
  }),
});

export const stationEventDefinitions = [
  StationRegistered,
  StationSecurityChanged,
  StationBooted,
  StationConnected,
  StationDisconnected,
  ConnectorDeclared,
  ConnectorStatusChanged,
  StationStatusChanged,
  AvailabilityChanged,
  StationConfigurationChanged,
  ...stationReportEventDefinitions,
  StationMessageRefused,
] as const;

export type StationEvent = EventOf<(typeof stationEventDefinitions)[number]>;
export type StationEventType = StationEvent['type'];
export type StationEventData<T extends StationEventType> = Extract<StationEvent, { type: T }>['data'];
