import type { TableSpec } from './rows.js';

/** Tables of `proj_locations` (migrations/readmodels-locations), as the projection writes them and readers type them. */

const text = (name: string) => ({ name, type: 'text' });
const ts = (name: string) => ({ name, type: 'timestamptz' });
const int = (name: string) => ({ name, type: 'integer' });
const bool = (name: string) => ({ name, type: 'boolean' });

export const locationsSpec: TableSpec = {
  table: 'locations',
  key: ['tenant_id', 'location_id'],
  columns: [
    ...['tenant_id', 'location_id', 'name', 'address', 'city', 'postal_code', 'state', 'country', 'latitude', 'longitude', 'time_zone'].map(text),
    ...['parking_type', 'facilities', 'opening_times'].map(text),
    bool('charging_when_closed'),
    ...['directions', 'operator', 'suboperator', 'owner'].map(text),
    bool('publish'),
    ts('last_updated'),
  ],
};
export const evsesSpec: TableSpec = {
  table: 'location_evses',
  key: ['tenant_id', 'location_id', 'evse_uid'],
  columns: [
    ...['tenant_id', 'location_id', 'evse_uid', 'evse_id', 'station_id'].map(text),
    int('station_evse_id'),
    ...['capabilities', 'physical_reference', 'floor_level'].map(text),
    bool('removed'),
    text('status'),
    ts('last_updated'),
  ],
};
export const connectorsSpec: TableSpec = {
  table: 'location_connectors',
  key: ['tenant_id', 'location_id', 'evse_uid', 'connector_id'],
  columns: [
    ...['tenant_id', 'location_id', 'evse_uid', 'connector_id'].map(text),
    int('station_connector_id'),
    ...['standard', 'format', 'power_type'].map(text),
    ...['max_voltage', 'max_amperage', 'max_electric_power'].map(int),
    text('tariff_ids'),
    ts('last_updated'),
  ],
};
export const stationsSpec: TableSpec = {
  table: 'station_links',
  key: ['tenant_id', 'station_id'],
  columns: [text('tenant_id'), text('station_id'), bool('online'), text('connection_id'), text('station_status'), bool('inoperative')],
};
export const stationEvsesSpec: TableSpec = {
  table: 'station_evse_status',
  key: ['tenant_id', 'station_id', 'station_evse_id'],
  columns: [text('tenant_id'), text('station_id'), int('station_evse_id'), text('ocpp_status'), ts('status_at'), bool('inoperative')],
};

/** Kysely types of `proj_locations`. */
export interface LocationsTable {
  tenant_id: string;
  location_id: string;
  name: string | null;
  address: string;
  city: string;
  postal_code: string | null;
  state: string | null;
  country: string;
  latitude: string;
  longitude: string;
  time_zone: string;
  parking_type: string | null;
  facilities: string;
  opening_times: string | null;
  charging_when_closed: boolean | null;
  directions: string;
  operator: string | null;
  suboperator: string | null;
  owner: string | null;
  publish: boolean;
  last_updated: Date;
}
export interface LocationEvsesTable {
  tenant_id: string;
  location_id: string;
  evse_uid: string;
  evse_id: string | null;
  station_id: string;
  station_evse_id: number;
  capabilities: string;
  physical_reference: string | null;
  floor_level: string | null;
  removed: boolean;
  status: string;
  last_updated: Date;
}
export interface LocationConnectorsTable {
  tenant_id: string;
  location_id: string;
  evse_uid: string;
  connector_id: string;
  station_connector_id: number;
  standard: string;
  format: string;
  power_type: string;
  max_voltage: number;
  max_amperage: number;
  max_electric_power: number | null;
  tariff_ids: string;
  last_updated: Date;
}
export interface LocationsReadModel {
  locations: LocationsTable;
  location_evses: LocationEvsesTable;
  location_connectors: LocationConnectorsTable;
}
