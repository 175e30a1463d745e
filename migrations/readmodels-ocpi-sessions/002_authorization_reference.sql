-- OCPI Session.authorization_reference: the last reference the eMSP gave for the session's
-- authorization (its real-time answer or its START_SESSION), from TransactionAuthorized.
-- Filled by the rebuild that the projection's version bump triggers.
ALTER TABLE sessions ADD COLUMN authorization_reference text;
