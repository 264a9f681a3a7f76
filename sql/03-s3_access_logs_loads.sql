-- The load ledger: one row per log object ever loaded. It is the exactly-once truth.
--
-- A loader claims an object with a MERGE on (logbucket, logkey) as the FIRST statement of the
-- transaction that also inserts the object's rows; the claim and the rows commit or roll back
-- together. Snowflake's MERGE locks the ledger table until commit, so a second, concurrent claim
-- of the same object waits, then finds the row and inserts nothing. Each claim writes a fresh
-- claimid; the loader selects its claimid back to learn which objects of a multi-object MERGE it
-- won, and loads only those. A forced replay (backfill "replay.force") updates the matched row
-- with its own claimid and replaces the object's rows and rejects in the same transaction.
--
-- Counts are NOT named rows/rejects: ROWS is a reserved keyword in Snowflake.
--   linecount = rowcount + rejectcount for every object (blank lines are not counted).
-- mode: 'parsed' (Lambda, typed rows), 'raw' (Lambda, raw lines to s3_access_logs_staging;
--       rowcount = staged lines, rejectcount = 0) or 'task' (the fallback task).
-- Writers: the ingest Lambda, the fallback task. Idempotent.

CREATE TABLE IF NOT EXISTS s3_access_logs_loads (
  logbucket    VARCHAR NOT NULL,
  logkey       VARCHAR NOT NULL,
  etag         VARCHAR,                 -- from the event (no quotes); NULL if the event had none
  sequencer    VARCHAR,                 -- from the event: orders events for the same key
  bytes        NUMBER(38,0),            -- object size as read
  linecount    NUMBER(38,0) NOT NULL,   -- non-blank lines read
  rowcount     NUMBER(38,0) NOT NULL,   -- typed rows (or staged lines in raw mode)
  rejectcount  NUMBER(38,0) NOT NULL,   -- lines in s3_access_logs_rejects
  loadedat     TIMESTAMP_TZ NOT NULL,   -- commit of the latest (possibly forced) load
  mode         VARCHAR NOT NULL,        -- parsed | raw | task
  claimid      VARCHAR NOT NULL,        -- unique per claiming transaction (see above)
  replayid     VARCHAR,                 -- backfill id of the latest forced replay, if any
  loadcount    NUMBER(38,0) NOT NULL    -- 1, plus one per forced replay
);
