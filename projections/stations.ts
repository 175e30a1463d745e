import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import { parseStreamName } from '../domain/shared/event.js';
import type { StationEventData } from '../domain/station/events.js';
import type { Projection } from './projection.js';
import { foldIntoTable, type Row, type TableSpec } from './rows.js';

/** Kysely types of `proj_stations` (query with queryBuilder<StationsReadModel>().withSchema(liveSchemaName('stations'))). */
export interface StationsTable {
  tenant_id: string;
  station_id: string;
  vendor: string | null;
  model: string | null;
  serial_number: string | null;
  firmware_version: string | null;
  ocpp_version: string | null;
  registered: boolean;
  boot_status: string | null;
  security_profile: number | null;
  /** scrypt hash for security profiles 1 and 2 (never the password); station login reads it. */
  password_hash: string | null;
  online: boolean;
  connection_id: string | null;
  /** NODE_ID of the node holding the socket while online; null offline or when not recorded. */
  node_id: string | null;
  /** Why the last connection ended (the gateway's reason, or nodeRestarted); null while online. */
  disconnect_reason: string | null;
  status: string | null;
  error_code: string | null;
  last_seen_at: Date | null;
}
export interface ConnectorsTable {
  tenant_id: string;
  station_id: string;
  evse_id: number;
  connector_id: number;
  connector_type: string | null;
  status: string | null;
  error_code: string | null;
  info: string | null;
  updated_at: Date | null;
}
/** A station message refused rather than recorded as a fact (domain/station/refusals.ts). */
export interface MessageRefusalsTable {
  tenant_id: string;
  station_id: string;
  event_id: string;
  action: string;
  message_id: string;
  /** foreignTransaction, unknownTransaction or stateConflict. */
  reason: string;
  /** As the station named it. */
  transaction_id: string | null;
  detail: string;
  refused_at: Date;
}
export interface StationsReadModel {
  stations: StationsTable;
  connectors: ConnectorsTable;
  message_refusals: MessageRefusalsTable;
}

const stationsSpec: TableSpec = {
  table: 'stations',
  key: ['tenant_id', 'station_id'],
  columns: [
    ...['tenant_id', 'station_id', 'vendor', 'model', 'serial_number', 'firmware_version', 'ocpp_version'].map((name) => ({ name, type: 'text' })),
    { name: 'registered', type: 'boolean' },
    { name: 'boot_status', type: 'text' },
    { name: 'security_profile', type: 'integer' },
    { name: 'password_hash', type: 'text' },
    { name: 'online', type: 'boolean' },
    ...['connection_id', 'node_id', 'disconnect_reason', 'status', 'error_code'].map((name) => ({ name, type: 'text' })),
    { name: 'last_seen_at', type: 'timestamptz' },
  ],
};
const connectorsSpec: TableSpec = {
  table: 'connectors',
  key: ['tenant_id', 'station_id', 'evse_id', 'connector_id'],
  columns: [
    { name: 'tenant_id', type: 'text' },
    { name: 'station_id', type: 'text' },
    { name: 'evse_id', type: 'integer' },
    { name: 'connector_id', type: 'integer' },
    ...['connector_type', 'status', 'error_code', 'info'].map((name) => ({ name, type: 'text' })),
    { name: 'updated_at', type: 'timestamptz' },
  ],
};

const refusalsSpec: TableSpec = {
  table: 'message_refusals',
  key: ['tenant_id', 'station_id', 'event_id'],
  columns: [
    ...['tenant_id', 'station_id', 'event_id', 'action', 'message_id', 'reason', 'transaction_id', 'detail'].map((name) => ({ name, type: 'text' })),
    { name: 'refused_at', type: 'timestamptz' },
  ],
};

const stationKey = (event: RecordedEvent): Row => ({ tenant_id: event.metadata.tenantId, station_id: parseStreamName(event.streamId).id });

function newStation(key: Row): Row {
  const row: Row = { ...key, registered: false, online: false };
  for (const column of stationsSpec.columns) if (!(column.name in row)) row[column.name] = null;
  return row;
}

/** Station time of the latest thing the station told us; reports may arrive out of order. */
function seen(row: Row, at: string): string {
  const last = row.last_seen_at as string | null;
  return last === null || Date.parse(at) > Date.parse(last) ? at : last;
}

function evolveStation(current: Row | undefined, event: RecordedEvent, key: Row): Row {
  const row = { ...(current ?? newStation(key)) };
  switch (event.type) {
    case 'StationRegistered': {
      const data = event.data as unknown as StationEventData<'StationRegistered'>;
      return { ...row, registered: true, security_profile: data.securityProfile, password_hash: data.passwordHash };
    }
    case 'StationSecurityChanged': {
      const data = event.data as unknown as StationEventData<'StationSecurityChanged'>;
      return { ...row, security_profile: data.securityProfile, password_hash: data.passwordHash };
    }
    case 'StationBooted': {
      const data = event.data as unknown as StationEventData<'StationBooted'>;
      return {
        ...row,
        vendor: data.vendor,
        model: data.model,
        serial_number: data.serialNumber,
        firmware_version: data.firmwareVersion,
        ocpp_version: data.ocppVersion,
        boot_status: data.bootStatus,
        registered: data.registered || row.registered,
        last_seen_at: seen(row, data.bootedAt),
      };
    }
    case 'StationConnected': {
      const data = event.data as unknown as StationEventData<'StationConnected'>;
      return {
        ...row,
        online: true,
        connection_id: data.connectionId,
        node_id: data.nodeId ?? null,
        disconnect_reason: null,
        ocpp_version: data.ocppVersion,
        last_seen_at: seen(row, data.connectedAt),
      };
    }
    case 'StationDisconnected': {
      const data = event.data as unknown as StationEventData<'StationDisconnected'>;
      // A late close of an older socket says nothing about the current connection.
      if (row.connection_id !== data.connectionId) return row;
      return { ...row, online: false, node_id: null, disconnect_reason: data.reason, last_seen_at: seen(row, data.disconnectedAt) };
    }
    case 'StationStatusChanged': {
      const data = event.data as unknown as StationEventData<'StationStatusChanged'>;
      return { ...row, status: data.status, error_code: data.errorCode, last_seen_at: seen(row, data.statusAt) };
    }
    case 'ConnectorStatusChanged': {
      const data = event.data as unknown as StationEventData<'ConnectorStatusChanged'>;
      return { ...row, last_seen_at: seen(row, data.statusAt) };
    }
    default:
      return row;
  }
}

function connectorKey(event: RecordedEvent): Row | null {
  if (event.type !== 'ConnectorDeclared' && event.type !== 'ConnectorStatusChanged') return null;
  const data = event.data as unknown as { evseId: number; connectorId: number };
  return { ...stationKey(event), evse_id: data.evseId, connector_id: data.connectorId };
}

function evolveConnector(current: Row | undefined, event: RecordedEvent, key: Row): Row {
  const row: Row = { connector_type: null, status: null, error_code: null, info: null, updated_at: null, ...key, ...current };
  if (event.type === 'ConnectorDeclared') {
    const data = event.data as unknown as StationEventData<'ConnectorDeclared'>;
    return { ...row, connector_type: data.connectorType ?? row.connector_type };
  }
  const data = event.data as unknown as StationEventData<'ConnectorStatusChanged'>;
  // Offline-queued reports arrive late: an older report never overwrites a newer one.
  if (row.updated_at !== null && Date.parse(data.statusAt) < Date.parse(row.updated_at as string)) return row;
  return { ...row, status: data.status, error_code: data.errorCode, info: data.info, updated_at: data.statusAt };
}

function refusalKey(event: RecordedEvent): Row | null {
  return event.type === 'StationMessageRefused' ? { ...stationKey(event), event_id: event.eventId } : null;
}

function refusalRow(_current: Row | undefined, event: RecordedEvent, key: Row): Row {
  const data = event.data as unknown as StationEventData<'StationMessageRefused'>;
  return {
    ...key,
    action: data.action,
    message_id: data.messageId,
    reason: data.reason,
    transaction_id: data.transactionId,
    detail: data.detail,
    refused_at: data.refusedAt,
  };
}

const stationRowEvents = new Set([
  'StationRegistered',
  'StationSecurityChanged',
  'StationBooted',
  'StationConnected',
  'StationDisconnected',
  'StationStatusChanged',
  'ConnectorStatusChanged',
]);

export const stationsProjection: Projection = {
  name: 'stations',
  // v2: password_hash, so station login reads the read model instead of the stream.
  // v3: node_id and disconnect_reason (a node settles the stations it held after a crash).
  version: 3,
  handledEventTypes: new Set([...stationRowEvents, 'ConnectorDeclared', 'StationMessageRefused']),
  migrationsGroup: 'readmodels-stations',
  checksumTables: [
    { table: 'stations', orderBy: stationsSpec.key },
    { table: 'connectors', orderBy: connectorsSpec.key },
    { table: 'message_refusals', orderBy: refusalsSpec.key },
  ],
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    await foldIntoTable(tx, schema, stationsSpec, events, (e) => (stationRowEvents.has(e.type) ? stationKey(e) : null), evolveStation);
    await foldIntoTable(tx, schema, connectorsSpec, events, connectorKey, evolveConnector);
    await foldIntoTable(tx, schema, refusalsSpec, events, refusalKey, refusalRow);
  },
};
