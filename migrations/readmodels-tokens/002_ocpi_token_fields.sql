-- The OCPI Token fields GET /tokens answers with (mod_tokens "Token Object"); null for local tokens.
ALTER TABLE tokens ADD COLUMN country_code text;
ALTER TABLE tokens ADD COLUMN party_id text;
ALTER TABLE tokens ADD COLUMN visual_number text;
ALTER TABLE tokens ADD COLUMN group_id text;
ALTER TABLE tokens ADD COLUMN language text;
ALTER TABLE tokens ADD COLUMN default_profile_type text;
-- {"supplierName", "contractId"?} as JSON text.
ALTER TABLE tokens ADD COLUMN energy_contract text;
CREATE INDEX tokens_party ON tokens (tenant_id, country_code, party_id);
