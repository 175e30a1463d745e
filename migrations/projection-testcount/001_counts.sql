-- Read model of the test-only "testcount" projection (test/integration/projection-runner.test.ts):
-- counts events per stream additively, so an event applied twice shows up as a wrong count.
CREATE TABLE counts (
  tenant_id text NOT NULL,
  stream_id text NOT NULL,
  events    integer NOT NULL,
  PRIMARY KEY (tenant_id, stream_id)
);
