-- One runner per projection across the cluster (docs/design.md, "Scale-out"): a lease row per
-- projection, renewed by its holder and checked inside every batch transaction. Times come from
-- the database clock (now()), so nodes with skewed clocks still agree on expiry.
-- handover_to lets a rebuild or verify ask the holder to step aside without waiting for expiry;
-- handover_until bounds the request so a requester that died does not block the lease forever.
CREATE TABLE leases (
  projection     text PRIMARY KEY,
  owner          text NOT NULL,
  expires_at     timestamptz NOT NULL,
  handover_to    text,
  handover_until timestamptz
);
