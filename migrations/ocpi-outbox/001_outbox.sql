-- The OCPI push outbox (ocpi/push): what we owe each partner. Not a projection: never rebuilt, as
-- its rows record what partners were actually sent.

-- The producer's place in $all. Moves only forward, in the same transaction as its enqueues.
CREATE TABLE checkpoint (
  name               text PRIMARY KEY,
  checkpoint_commit  numeric,
  checkpoint_prepare numeric,
  events_seen        bigint NOT NULL DEFAULT 0
);

-- One push of one object to one partner. At most one pending row per object and partner (index
-- below): a newer change merges into it, and `build` reads the newest state at delivery, so a
-- partner that was down gets one delivery of the newest state. `version` counts merges, so a
-- delivery that raced a merge does not mark the newer change delivered.
CREATE TABLE pushes (
  id                bigserial PRIMARY KEY,
  tenant_id         text NOT NULL,
  partner_id        text NOT NULL,
  module            text NOT NULL,
  object_key        text NOT NULL,
  change            text NOT NULL CHECK (change IN ('object', 'status', 'delete')),
  -- The newest event merged in; null for `csms ocpi sync`.
  source_event_id   text,
  enqueued_at       timestamptz NOT NULL,
  state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'rejected')),
  version           integer NOT NULL DEFAULT 1,
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz NOT NULL,
  -- A worker delivering it now (any node); expires so a crashed node's pushes are picked again.
  claimed_by        text,
  claimed_until     timestamptz,
  last_error        text,
  last_http_status  integer,
  last_ocpi_status  integer,
  response_location text,
  delivered_at      timestamptz,
  note              text
);
CREATE UNIQUE INDEX pushes_one_pending ON pushes (tenant_id, partner_id, module, object_key) WHERE state = 'pending';
CREATE INDEX pushes_due ON pushes (tenant_id, next_attempt_at) WHERE state = 'pending';
CREATE INDEX pushes_by_partner ON pushes (tenant_id, partner_id, state, id);

-- The newest event enqueued per object and partner: a replay of $all (checkpoint moved back)
-- finds its events at or before these positions and enqueues nothing again. Bounded by objects
-- times partners, not by events.
CREATE TABLE enqueued_through (
  tenant_id    text NOT NULL,
  partner_id   text NOT NULL,
  module       text NOT NULL,
  object_key   text NOT NULL,
  event_commit  numeric NOT NULL,
  event_prepare numeric NOT NULL,
  PRIMARY KEY (tenant_id, partner_id, module, object_key)
);

-- Every attempt, append-only, for audit and for the operator asking "what did we send?".
CREATE TABLE deliveries (
  id               bigserial PRIMARY KEY,
  push_id          bigint NOT NULL REFERENCES pushes (id),
  attempt          integer NOT NULL,
  at               timestamptz NOT NULL,
  method           text NOT NULL,
  url              text NOT NULL,
  http_status      integer,
  ocpi_status      integer,
  request_id       text,
  correlation_id   text,
  duration_ms      integer NOT NULL,
  error            text
);
CREATE INDEX deliveries_by_push ON deliveries (push_id, attempt);
