-- Read model of the station aggregate. tenant_id leads every primary key (docs/design.md, "Tenancy").
CREATE TABLE stations (
  tenant_id         text NOT NULL,
  station_id        text NOT NULL,
  vendor            text,
  model             text,
  serial_number     text,
  firmware_version  text,
  ocpp_version      text,
  registered        boolean NOT NULL DEFAULT false,
  boot_status       text,
  security_profile  integer,
  password_hash     text,      -- scrypt hash, never the password
  online            boolean NOT NULL DEFAULT false,
  connection_id     text,
  status            text,
  error_code        text,
  last_seen_at      timestamptz,
  PRIMARY KEY (tenant_id, station_id)
);

CREATE TABLE connectors (
  tenant_id      text NOT NULL,
  station_id     text NOT NULL,
  evse_id        integer NOT NULL,
  connector_id   integer NOT NULL,
  connector_type text,
  status         text,
  error_code     text,
  info           text,
  updated_at     timestamptz,
  PRIMARY KEY (tenant_id, station_id, evse_id, connector_id)
);
