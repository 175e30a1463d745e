-- Tokens (RFID, app, ad hoc). token_id is the stream id; uid is what stations send.
CREATE TABLE tokens (
  tenant_id     text NOT NULL,
  token_id      text NOT NULL,
  uid           text NOT NULL,
  token_type    text NOT NULL,
  contract_id   text NOT NULL,
  issuer        text NOT NULL,
  whitelist     text NOT NULL,
  source        text NOT NULL,
  valid_until   timestamptz,
  status        text NOT NULL CHECK (status IN ('valid', 'blocked', 'expired')),
  blocked       boolean NOT NULL DEFAULT false,
  block_reason  text,
  expired       boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, token_id)
);
CREATE INDEX tokens_uid ON tokens (tenant_id, uid);
