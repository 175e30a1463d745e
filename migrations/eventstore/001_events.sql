-- The event store (docs/design.md, "Event store contract"). Applied by openPostgresEventStore through
-- migrate(db, 'eventstore', schema) with search_path set to the schema; the same file serves a
-- PostgreSQL server (pg) and embedded PGlite.
--
-- Global order ($all) is (transaction_id, seq), read only below pg_snapshot_xmin(pg_current_snapshot()).
-- seq alone is NOT commit order: it is taken at INSERT, so a transaction holding seq 10 can commit
-- after one holding seq 11, and a reader that had passed 11 would skip 10 forever (the bigserial
-- gap problem). Every transaction id below the snapshot's xmin has finished, so nothing can appear
-- later below that barrier. Inside a SAVEPOINT pg_current_xact_id() is still the top-level id, so
-- all rows of one group commit share one transaction_id.
CREATE TABLE events (
  seq            bigserial NOT NULL,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id      text NOT NULL,
  revision       integer NOT NULL CHECK (revision >= 0),
  event_id       uuid NOT NULL,
  type           text NOT NULL,
  schema_version integer NOT NULL CHECK (schema_version >= 1),
  data           jsonb NOT NULL,
  metadata       jsonb NOT NULL,
  -- Hash chain (adapters/event-store/hash.ts): everything eventHash() covers is stored above, so
  -- `csms audit verify` recomputes it from what readAll returns.
  previous_hash  text CHECK (previous_hash IS NULL OR length(previous_hash) = 64),
  hash           text NOT NULL CHECK (length(hash) = 64),
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  -- readAll / subscribe / headPosition scan this index in order.
  CONSTRAINT events_pkey PRIMARY KEY (transaction_id, seq),
  -- Two writers racing past the expected-revision check (two nodes, or a caller's own
  -- transaction) cannot both take a revision: the loser gets a unique violation, mapped to
  -- WrongExpectedRevisionError. Also the index readStream and the head lookup use.
  CONSTRAINT events_stream_revision_key UNIQUE (stream_id, revision),
  -- Idempotency: a retried event id is found, never stored twice in its stream.
  CONSTRAINT events_stream_event_id_key UNIQUE (stream_id, event_id),
  CONSTRAINT events_first_has_no_previous CHECK ((revision = 0) = (previous_hash IS NULL))
);

-- Events are facts: refuse to change or remove one (the hash chain would detect it too, later).
CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are immutable: % refused on the event store', TG_OP;
END;
$$;

CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_are_immutable();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();
