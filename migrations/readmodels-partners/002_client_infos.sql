-- What hub partners report about the parties connected to them (OCPI hubclientinfo), one row per
-- hub and party. last_updated is the hub's own time; updated_at the event's.
CREATE TABLE client_infos (
  tenant_id     text NOT NULL,
  partner_id    text NOT NULL,
  country_code  text NOT NULL,
  party_id      text NOT NULL,
  role          text NOT NULL,
  status        text NOT NULL CHECK (status IN ('CONNECTED', 'OFFLINE', 'PLANNED', 'SUSPENDED')),
  last_updated  timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, partner_id, country_code, party_id)
);
