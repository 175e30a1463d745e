-- OCPI 2.2.1 Sessions as the Sender serves them, one row per transaction (session id = our
-- transaction id). Energy in Wh as numeric: exact, never a float; the module converts to kWh at
-- the edge. status 'AUTHORIZED': a token was accepted but the station has not started yet; such
-- rows are not OCPI sessions (no connector yet) and are never listed.
CREATE TABLE sessions (
  tenant_id             text NOT NULL,
  session_id            text NOT NULL,
  station_id            text,
  station_evse_id       integer,
  station_connector_id  integer,
  token_uid             text,
  token_type            text,           -- OCPI TokenType (RFID, APP_USER, AD_HOC_USER, OTHER)
  contract_id           text,
  token_country_code    text,           -- the token's eMSP; null: not known (then our own party)
  token_party_id        text,
  auth_basis            text,           -- TransactionAuthorized basis of the accepted authorization
  remote_start          boolean NOT NULL DEFAULT false,
  status                text NOT NULL CHECK (status IN ('AUTHORIZED', 'PENDING', 'ACTIVE', 'COMPLETED', 'INVALID')),
  start_date_time       timestamptz,
  end_date_time         timestamptz,
  meter_start_wh        numeric,        -- station's meter start, or the earliest register when it sent none
  meter_start_at        timestamptz,    -- sampled time of that earliest register (null: station's own start)
  latest_register_wh    numeric,
  latest_register_at    timestamptz,
  energy_wh             numeric NOT NULL DEFAULT 0,
  register_known        boolean NOT NULL DEFAULT false,
  charging_state        text,           -- latest OCPP charging state, null until one is reported
  period_count          integer NOT NULL DEFAULT 0,
  last_updated          timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, session_id)
);
CREATE INDEX sessions_last_updated ON sessions (tenant_id, last_updated, session_id) WHERE status <> 'AUTHORIZED';
CREATE INDEX sessions_token_party ON sessions (tenant_id, token_country_code, token_party_id, last_updated);

-- OCPI ChargingPeriods: a new one on each charging-state change, at most 500 per session (then
-- the last one is extended). Dimensions are derived when read: ENERGY from the registers, TIME or
-- PARKING_TIME from start to end_at, current and power extremes in A and kW.
CREATE TABLE charging_periods (
  tenant_id           text NOT NULL,
  session_id          text NOT NULL,
  period_index        integer NOT NULL,
  start_date_time     timestamptz NOT NULL,
  end_at              timestamptz NOT NULL,
  charging_state      text,             -- null: no state reported yet
  start_register_wh   numeric,
  end_register_wh     numeric,
  end_register_at     timestamptz,
  max_current_a       numeric,
  min_current_a       numeric,
  max_power_kw        numeric,
  min_power_kw        numeric,
  PRIMARY KEY (tenant_id, session_id, period_index)
);

-- The token facts a session's cdr_token names (from token events), looked up by uid at start.
CREATE TABLE tokens (
  tenant_id     text NOT NULL,
  token_id      text NOT NULL,
  uid           text NOT NULL,
  token_type    text NOT NULL,
  contract_id   text NOT NULL,
  country_code  text,
  party_id      text,
  PRIMARY KEY (tenant_id, token_id)
);
CREATE INDEX tokens_uid ON tokens (tenant_id, uid);
