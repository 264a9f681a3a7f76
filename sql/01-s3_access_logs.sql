-- The typed table: one row per parsed access-log line.
--
-- Columns 1-28 are the parser's fields (shared/access-log/columns.ts), named as in the Athena DDL
-- AWS documents and the quickstart's table, so existing queries keep working. Then lineage:
-- which object (logbucket, logkey) and which line of it (logline, counted from 1 as in the file)
-- each row came from, and when it was committed (loadedat). (logbucket, logkey, logline) is unique
-- per row: the ledger (03) makes each object load once, and a forced replay deletes the object's
-- rows before re-inserting them in the same transaction.
--
-- Writers: the ingest Lambda (LOAD_MODE=parsed) and the fallback task (sql/fallback/).
-- Idempotent: CREATE TABLE IF NOT EXISTS never drops data. Column changes need an ALTER in a new file.

CREATE TABLE IF NOT EXISTS s3_access_logs (
  bucketowner      VARCHAR,
  bucket_name      VARCHAR,
  requestdatetime  TIMESTAMP_TZ,      -- the log's [06/Feb/2019:00:00:38 +0000], as an instant
  remoteip         VARCHAR,
  requester        VARCHAR,
  requestid        VARCHAR,
  operation        VARCHAR,
  key              VARCHAR,           -- as logged: still URL-encoded
  request_uri      VARCHAR,
  httpstatus       NUMBER(38,0),
  errorcode        VARCHAR,
  bytessent        NUMBER(38,0),
  objectsize       NUMBER(38,0),
  totaltime        NUMBER(38,0),      -- milliseconds
  turnaroundtime   NUMBER(38,0),      -- milliseconds
  referrer         VARCHAR,
  useragent        VARCHAR,
  versionid        VARCHAR,
  hostid           VARCHAR,
  sigv             VARCHAR,
  ciphersuite      VARCHAR,
  authtype         VARCHAR,
  endpoint         VARCHAR,
  tlsversion       VARCHAR,
  accesspointarn   VARCHAR,
  aclrequired      BOOLEAN,           -- 'Yes' → TRUE, '-' → FALSE, field absent (older logs) → NULL
  sourceregion     VARCHAR,
  extrafields      VARCHAR,           -- fields S3 may append after the 27th, verbatim
  logbucket        VARCHAR NOT NULL,  -- bucket holding the log object
  logkey           VARCHAR NOT NULL,  -- key of the log object
  logline          NUMBER(38,0) NOT NULL,
  loadedat         TIMESTAMP_TZ NOT NULL
);
