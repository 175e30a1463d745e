-- Lives in every projection schema (proj_<name> and its rebuild copies) beside the read models,
-- so the checkpoint moves in the same transaction as the rows and a schema swap carries both.
-- version: the projection code version that built this schema; a lower one means "stale".
-- The checkpoint is a $all position (commit/prepare, both unsigned 64-bit: numeric, not int8).
CREATE TABLE projection_state (
  singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  projection         text NOT NULL,
  version            integer NOT NULL,
  checkpoint_commit  numeric(20, 0),
  checkpoint_prepare numeric(20, 0),
  events_seen        bigint NOT NULL DEFAULT 0,
  CHECK ((checkpoint_commit IS NULL) = (checkpoint_prepare IS NULL))
);
