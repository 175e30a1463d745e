-- Issued CDRs (and credit CDRs) with their totals. Money and quantities numeric: exact.
CREATE TABLE cdrs (
  tenant_id            text NOT NULL,
  cdr_id               text NOT NULL,
  transaction_id       text NOT NULL,
  party                text NOT NULL,          -- our OCPI party: <country>-<party id>
  emsp                 text NOT NULL,          -- the token's party: <country>-<party id>
  token_uid            text NOT NULL,
  start_date_time      timestamptz NOT NULL,
  end_date_time        timestamptz NOT NULL,
  currency             text NOT NULL,
  total_cost_excl_vat  numeric NOT NULL,
  total_cost_incl_vat  numeric,
  total_energy_kwh     numeric NOT NULL,
  total_time_h         numeric NOT NULL,
  total_parking_time_h numeric,
  tariff_version_id    text,
  credit               boolean NOT NULL,
  credit_reference_id  text,
  credited_by          text,
  credited_at          timestamptz,
  credit_reason        text,
  replaced_by          text,
  replaces_cdr_id      text,
  last_updated         timestamptz NOT NULL,
  cdr_json             text NOT NULL,          -- the OCPI CDR as issued, for export
  PRIMARY KEY (tenant_id, cdr_id)
);
CREATE INDEX cdrs_start ON cdrs (tenant_id, start_date_time);
CREATE INDEX cdrs_emsp ON cdrs (tenant_id, emsp, start_date_time);
