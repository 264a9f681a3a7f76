-- Lines the parser could not turn into a typed row, kept with the reason, so nothing is lost
-- silently: for every object, lines = rows in s3_access_logs + rows here (the ledger (03) records
-- both counts). rawline is the line exactly as read (after UTF-8 decoding), for re-processing.
--
-- Writers: the ingest Lambda (LOAD_MODE=parsed) and the fallback task.
-- Idempotent.

CREATE TABLE IF NOT EXISTS s3_access_logs_rejects (
  logbucket  VARCHAR NOT NULL,
  logkey     VARCHAR NOT NULL,
  logline    NUMBER(38,0) NOT NULL,   -- line number in the object, from 1
  reason     VARCHAR NOT NULL,        -- the parser's reason, e.g. "expected 27 fields or more, got 5"
  rawline    VARCHAR,
  loadedat   TIMESTAMP_TZ NOT NULL
);
