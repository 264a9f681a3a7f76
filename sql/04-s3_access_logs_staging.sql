-- Raw staging: one row per raw log line, with lineage. Filled by the ingest Lambda in raw mode
-- (LOAD_MODE=raw) or by the paused Snowpipe of the fallback path (sql/fallback/03-pipe.sql); the
-- fallback task (sql/fallback/) turns staged lines into typed rows and rejects. Also the input of
-- the parity check (sql/checks/parity.sql).
-- An object reaches staging at most once: the Lambda claims it in the ledger (03) in the same
-- transaction, with mode = 'raw'.
-- Idempotent.

CREATE TABLE IF NOT EXISTS s3_access_logs_staging (
  logbucket  VARCHAR NOT NULL,
  logkey     VARCHAR NOT NULL,
  logline    NUMBER(38,0) NOT NULL,   -- line number in the object, from 1
  raw        VARCHAR NOT NULL,        -- the line as read, without its line ending
  loadedat   TIMESTAMP_TZ NOT NULL
);
