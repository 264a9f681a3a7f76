-- Load method `pipe`, step 3 of 3: the pipes. Step 2, the stage s3_access_logs_stage, is generated
-- by shared/snowflake/pipe-sql.ts (its URL and credentials differ between deployed and local).
--
-- Auto-ingest: S3 event notifications of the staging bucket go to the pipes' notification
-- channel (SHOW PIPES → notification_channel, one SQS queue per account and region); each pipe
-- loads the files under its own path of the stage. Files per source log object, written by the
-- ingest Lambda with names derived from the object, so a redelivery rewrites the same names:
--   rows/<id>.csv.gz       typed rows       → s3_access_logs
--   rejects/<id>.csv.gz    rejected lines   → s3_access_logs_rejects
--   raw/<id>.csv.gz        raw lines        → s3_access_logs_staging (LOAD_MODE=raw)
--   manifests/<id>.csv.gz  one ledger row   → s3_access_logs_loads (written last)
--
-- Exactly once: Snowpipe keeps each pipe's load history (file path) for 14 days and does not load
-- a path again within it; the staging bucket expires files after 14 days, so a path is never
-- loaded twice. ON_ERROR = SKIP_FILE (Snowpipe's default, written out because it is the point):
-- one bad record and NOTHING of that file loads, it shows as "Load failed" in COPY_HISTORY
-- (sql/checks/pipe-loads.sql), never half an object.
--
-- Columns are mapped explicitly by position ($n) so the order of the table's columns never
-- matters. loadedat is METADATA$START_SCAN_TIME (when Snowpipe started reading the file). The
-- ledger's claimid is 'pipe:' || METADATA$FILENAME (the manifest's path), loadcount 1.
--
-- IF NOT EXISTS, not OR REPLACE: replacing a pipe drops its load history (Snowflake would then load
-- a re-notified path again). To change a pipe: DROP PIPE, then apply again.
-- Applied by `s3-access-logs setup-snowflake --staging-url …` as the owner role S3_ACCESS_LOGS_ADMIN
-- (it owns the tables, so the pipes it owns may load them), and by the local stack.

CREATE PIPE IF NOT EXISTS s3_access_logs_rows_pipe
  AUTO_INGEST = TRUE
  COMMENT = 's3-access-logs (load method pipe): typed rows → s3_access_logs'
  AS
  COPY INTO s3_access_logs (
    bucketowner, bucket_name, requestdatetime, remoteip, requester, requestid, operation, key,
    request_uri, httpstatus, errorcode, bytessent, objectsize, totaltime, turnaroundtime, referrer,
    useragent, versionid, hostid, sigv, ciphersuite, authtype, endpoint, tlsversion, accesspointarn,
    aclrequired, sourceregion, extrafields, logbucket, logkey, logline, loadedat)
  FROM (
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
           $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, METADATA$START_SCAN_TIME
    FROM @s3_access_logs_stage/rows/
  )
  FILE_FORMAT = (FORMAT_NAME = 's3_access_logs_csv')
  ON_ERROR = SKIP_FILE;

CREATE PIPE IF NOT EXISTS s3_access_logs_rejects_pipe
  AUTO_INGEST = TRUE
  COMMENT = 's3-access-logs (load method pipe): rejected lines → s3_access_logs_rejects'
  AS
  COPY INTO s3_access_logs_rejects (logbucket, logkey, logline, reason, rawline, loadedat)
  FROM (
    SELECT $1, $2, $3, $4, $5, METADATA$START_SCAN_TIME
    FROM @s3_access_logs_stage/rejects/
  )
  FILE_FORMAT = (FORMAT_NAME = 's3_access_logs_csv')
  ON_ERROR = SKIP_FILE;

CREATE PIPE IF NOT EXISTS s3_access_logs_raw_pipe
  AUTO_INGEST = TRUE
  COMMENT = 's3-access-logs (load method pipe, LOAD_MODE=raw): raw lines → s3_access_logs_staging'
  AS
  COPY INTO s3_access_logs_staging (logbucket, logkey, logline, raw, loadedat)
  FROM (
    SELECT $1, $2, $3, $4, METADATA$START_SCAN_TIME
    FROM @s3_access_logs_stage/raw/
  )
  FILE_FORMAT = (FORMAT_NAME = 's3_access_logs_csv')
  ON_ERROR = SKIP_FILE;

-- The manifest: logbucket, logkey, etag, sequencer, bytes, linecount, rowcount, rejectcount, mode,
-- replayid, parsems. parsems is not a ledger column (it stays in the staged file).
CREATE PIPE IF NOT EXISTS s3_access_logs_loads_pipe
  AUTO_INGEST = TRUE
  COMMENT = 's3-access-logs (load method pipe): one ledger row per source object → s3_access_logs_loads'
  AS
  COPY INTO s3_access_logs_loads (
    logbucket, logkey, etag, sequencer, bytes, linecount, rowcount, rejectcount, mode, replayid,
    loadedat, claimid, loadcount)
  FROM (
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
           METADATA$START_SCAN_TIME, 'pipe:' || METADATA$FILENAME, 1
    FROM @s3_access_logs_stage/manifests/
  )
  FILE_FORMAT = (FORMAT_NAME = 's3_access_logs_csv')
  ON_ERROR = SKIP_FILE;
