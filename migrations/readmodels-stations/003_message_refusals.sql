-- Station messages the CSMS refused to record as facts (StationMessageRefused): another station's
-- transaction, an unknown transaction, a state conflict. One row per refusal event; the station
-- stream records at most one per (reason, action, fact, transaction) and 20 a minute, so this stays small.
CREATE TABLE message_refusals (
  tenant_id       text NOT NULL,
  station_id      text NOT NULL,
  event_id        text NOT NULL,
  action          text NOT NULL,
  message_id      text NOT NULL,
  reason          text NOT NULL,
  transaction_id  text,
  detail          text NOT NULL,
  refused_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, station_id, event_id)
);
CREATE INDEX message_refusals_by_time ON message_refusals (tenant_id, refused_at);
