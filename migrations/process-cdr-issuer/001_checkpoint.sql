-- The CDR process manager's place in $all. Moves only forward; at-least-once is safe because
-- every command it sends has a deterministic command id (a retry appends nothing).
CREATE TABLE checkpoint (
  name              text PRIMARY KEY,
  checkpoint_commit numeric,
  checkpoint_prepare numeric,
  events_seen       bigint NOT NULL DEFAULT 0
);
-- Sessions the issuer could not bill because a command was refused (bad data, not an outage):
-- kept for an operator instead of blocking every later session behind one bad one.
CREATE TABLE failures (
  tenant_id    text NOT NULL,
  event_id     text NOT NULL,
  stream_id    text NOT NULL,
  event_type   text NOT NULL,
  error        text NOT NULL,
  failed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
