-- The double-entry ledger: balances per account (one currency per account) and every line.
-- The trial balance is SUM(balance) per tenant and currency: zero, or the journal is corrupt.
CREATE TABLE accounts (
  tenant_id  text NOT NULL,
  account    text NOT NULL,
  name       text NOT NULL,
  kind       text NOT NULL,
  currency   text NOT NULL,
  opened_at  timestamptz NOT NULL,
  debits     numeric NOT NULL,
  credits    numeric NOT NULL,
  balance    numeric NOT NULL,   -- debits - credits
  lines      integer NOT NULL,
  PRIMARY KEY (tenant_id, account)
);
CREATE TABLE journal_lines (
  tenant_id   text NOT NULL,
  entry_id    text NOT NULL,
  line_no     integer NOT NULL,
  account     text NOT NULL,
  side        text NOT NULL CHECK (side IN ('debit', 'credit')),
  amount      numeric NOT NULL CHECK (amount > 0),
  currency    text NOT NULL,
  posted_at   timestamptz NOT NULL,
  description text NOT NULL,
  source_kind text NOT NULL,
  source_id   text NOT NULL,
  PRIMARY KEY (tenant_id, entry_id, line_no)
);
CREATE INDEX journal_lines_account ON journal_lines (tenant_id, account, posted_at, entry_id, line_no);
