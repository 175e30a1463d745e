-- Our OCPI 2.2.1 tariffs as the Tariffs module sends them: one row per tariff id holding its
-- newest version. tariff_json is the OCPI Tariff object whole (as accepted by parseTariff) with
-- last_updated set to the event's recordedAt, so a list GET and a push send the same bytes.
CREATE TABLE tariffs (
  tenant_id       text NOT NULL,
  tariff_id       text NOT NULL,
  country_code    text NOT NULL,
  party_id        text NOT NULL,
  currency        text NOT NULL,
  version         integer NOT NULL,
  version_id      text NOT NULL,       -- <tariffId>@<version>, as a CDR records it
  valid_from      timestamptz NOT NULL,
  active          boolean NOT NULL,
  deactivated_at  timestamptz,
  last_updated    timestamptz NOT NULL, -- recordedAt of the newest event of the tariff
  tariff_json     text NOT NULL,
  PRIMARY KEY (tenant_id, tariff_id)
);
-- The list GET: active tariffs by last_updated (oldest first, ties by id).
CREATE INDEX tariffs_by_last_updated ON tariffs (tenant_id, active, last_updated, tariff_id);
