-- OCPI partners. token_hash: SHA-256 of the token they present to us (null once revoked);
-- token_sealed: the token we present to them, sealed (see domain/partner/events.ts).
CREATE TABLE partners (
  tenant_id      text NOT NULL,
  partner_id     text NOT NULL,
  status         text NOT NULL CHECK (status IN ('pending', 'registered', 'unregistered')),
  initiated_by   text,
  version        text,
  versions_url   text,
  roles          text NOT NULL DEFAULT '[]',
  endpoints      text NOT NULL DEFAULT '[]',
  token_hash     text,
  token_sealed   text,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, partner_id)
);
CREATE INDEX partners_token_hash ON partners (tenant_id, token_hash);
