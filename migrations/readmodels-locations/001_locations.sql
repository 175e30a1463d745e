-- Read model of the location aggregate, with the EVSE status derived from station events.
-- tenant_id leads every primary key (docs/design.md, "Tenancy"). JSON-valued facts are text holding
-- JSON, written and read whole. last_updated is event metadata (recordedAt), never the clock.
CREATE TABLE locations (
  tenant_id             text NOT NULL,
  location_id           text NOT NULL,
  name                  text,
  address               text NOT NULL,
  city                  text NOT NULL,
  postal_code           text,
  state                 text,
  country               text NOT NULL,
  latitude              text NOT NULL,
  longitude             text NOT NULL,
  time_zone             text NOT NULL,
  parking_type          text,
  facilities            text NOT NULL,   -- JSON array
  opening_times         text,            -- JSON OCPI Hours
  charging_when_closed  boolean,
  directions            text NOT NULL,   -- JSON array of DisplayText
  operator              text,            -- JSON BusinessDetails
  suboperator           text,
  owner                 text,
  publish               boolean NOT NULL,
  last_updated          timestamptz NOT NULL,  -- max of its own facts' and its EVSEs'
  PRIMARY KEY (tenant_id, location_id)
);
CREATE INDEX locations_by_last_updated ON locations (tenant_id, last_updated, location_id);

CREATE TABLE location_evses (
  tenant_id          text NOT NULL,
  location_id        text NOT NULL,
  evse_uid           text NOT NULL,
  evse_id            text,
  station_id         text NOT NULL,
  station_evse_id    integer NOT NULL,
  capabilities       text NOT NULL,      -- JSON array
  physical_reference text,
  floor_level        text,
  removed            boolean NOT NULL,
  status             text NOT NULL,      -- OCPI EvseStatus
  last_updated       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, location_id, evse_uid)
);
CREATE INDEX location_evses_by_station ON location_evses (tenant_id, station_id, station_evse_id);

CREATE TABLE location_connectors (
  tenant_id            text NOT NULL,
  location_id          text NOT NULL,
  evse_uid             text NOT NULL,
  connector_id         text NOT NULL,
  station_connector_id integer NOT NULL,
  standard             text NOT NULL,
  format               text NOT NULL,
  power_type           text NOT NULL,
  max_voltage          integer NOT NULL,
  max_amperage         integer NOT NULL,
  max_electric_power   integer,
  tariff_ids           text NOT NULL,    -- JSON array
  last_updated         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, location_id, evse_uid, connector_id)
);

-- What stations said, kept whether or not a location has their EVSEs yet, so an EVSE assigned
-- later starts with the right status.
CREATE TABLE station_links (
  tenant_id      text NOT NULL,
  station_id     text NOT NULL,
  online         boolean,                -- null: no connection event seen
  connection_id  text,
  station_status text,                   -- OCPP 1.6 connector 0 status
  inoperative    boolean NOT NULL,       -- ChangeAvailability of the whole station
  PRIMARY KEY (tenant_id, station_id)
);

CREATE TABLE station_evse_status (
  tenant_id       text NOT NULL,
  station_id      text NOT NULL,
  station_evse_id integer NOT NULL,
  ocpp_status     text,                  -- latest connector status of the EVSE
  status_at       timestamptz,           -- station time of that report
  inoperative     boolean NOT NULL,      -- ChangeAvailability of this EVSE
  PRIMARY KEY (tenant_id, station_id, station_evse_id)
);
