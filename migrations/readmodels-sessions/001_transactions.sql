-- Charging sessions. Energy in Wh as numeric: exact, never a float.
CREATE TABLE transactions (
  tenant_id               text NOT NULL,
  transaction_id          text NOT NULL,
  station_transaction_id  text,
  station_id              text NOT NULL,
  evse_id                 integer NOT NULL,
  connector_id            integer NOT NULL,
  id_token                text,
  id_token_type           text,
  status                  text NOT NULL CHECK (status IN ('active', 'ended')),
  started_at              timestamptz NOT NULL,
  ended_at                timestamptz,
  meter_start_wh          numeric,            -- null: the station sent none (2.0.1)
  first_register_wh       numeric,            -- earliest reading: baseline when meter start is null
  first_reading_at        timestamptz,
  latest_register_wh      numeric,
  latest_reading_at       timestamptz,
  energy_wh               numeric NOT NULL,
  readings                integer NOT NULL DEFAULT 0,
  stop_reason             text,
  PRIMARY KEY (tenant_id, transaction_id)
);
CREATE INDEX transactions_station ON transactions (tenant_id, station_id, started_at);
CREATE INDEX transactions_active ON transactions (tenant_id, station_id) WHERE status = 'active';
