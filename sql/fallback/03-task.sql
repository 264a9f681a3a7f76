-- Fallback path, step 3 of 3: the task that turns staged raw lines into typed rows.
-- Applied by `s3-access-logs setup-snowflake --fallback` (sql/fallback/*.sql: no placeholders).
--
-- WHEN TO ENABLE: when the Lambda runs in raw mode (LOAD_MODE=raw) or Snowpipe (snowpipe/03-pipe.sql) stages
-- lines, i.e. when the TypeScript parser is suspect or the Lambda cannot run. Then:
--   ALTER TASK s3_access_logs_transformation RESUME;
-- To drain the staged lines once, now, without the schedule (works while suspended, too):
--   EXECUTE TASK s3_access_logs_transformation;
-- Back on the Lambda path: ALTER TASK s3_access_logs_transformation SUSPEND; (after a last EXECUTE
-- TASK, so that nothing staged in raw mode is left behind).
-- OFF BY DEFAULT: Snowflake creates tasks suspended, and CREATE OR REPLACE below leaves it
-- suspended again when this file is re-applied (resume it again if you are on the fallback path).
--
-- What one run does, in TWO transactions:
--   1. (its own transaction) copies the new staging rows out of the stream into the backlog
--      s3_access_logs_task_batch (that DML is what consumes the stream: a stream is always
--      consumed whole, however few rows a statement keeps). A plain copy, quick for any backlog.
--   Then, in ONE transaction (all or nothing; on error the backlog keeps its lines and the next
--   run retries them), a BOUNDED share of the backlog: whole objects, oldest first, until the run
--   holds max_lines lines (2,000,000; always at least one object). So a large raw backlog is
--   worked off over several runs, each far inside the warehouse's 600 s statement timeout,
--   instead of one run that times out, rolls back and repeats forever:
--   2. claims, in the ledger s3_access_logs_loads, every object of this share that no path has
--      typed yet: objects with no ledger row (staged by Snowpipe) get a row with mode 'task',
--      objects the Lambda staged in raw mode (mode 'raw') move to mode 'task'. Objects already
--      typed (mode 'parsed' or 'task') are left alone: their staged lines are not loaded again.
--      The claim is a MERGE with this run's claimid, like the Lambda's, so the two paths
--      serialise on the ledger and an object is never loaded by both;
--   3. runs parse_s3_access_logs once over the claimed objects' lines, one row per (logbucket,
--      logkey, logline), the latest staged, even if an object was staged twice;
--   4. inserts parsed lines into s3_access_logs with explicit conversions and lineage, and
--      unparseable lines into s3_access_logs_rejects (none is dropped);
--   5. records line, row and reject counts in the claimed ledger rows;
--   6. removes this share's lines from the backlog (typed now, or typed before by another path).
-- The backlog drains as new lines trigger runs (every 10 minutes while lines are staged). If
-- staging stops with lines left in s3_access_logs_task_batch, drain it as sql/fallback/README.md
-- says (the WHEN condition only sees the stream).
-- Claimed objects first lose any typed rows and rejects they still have. A forced raw replay
-- already deletes them on the Lambda side; this keeps the task correct on its own.

-- Work tables. TRANSIENT: no fail-safe storage for data the stream or the staging table still
-- hold. IF NOT EXISTS: idempotent (the ALTER adds the column to a backlog table created before it).
CREATE TRANSIENT TABLE IF NOT EXISTS s3_access_logs_task_batch (
  logbucket  VARCHAR NOT NULL,
  logkey     VARCHAR NOT NULL,
  logline    NUMBER(38,0) NOT NULL,
  raw        VARCHAR NOT NULL,
  loadedat   TIMESTAMP_TZ
)
COMMENT = 'S3 access logs fallback path: backlog of task s3_access_logs_transformation (staged lines taken from the stream, not transformed yet).';
ALTER TABLE s3_access_logs_task_batch ADD COLUMN IF NOT EXISTS loadedat TIMESTAMP_TZ;

CREATE TRANSIENT TABLE IF NOT EXISTS s3_access_logs_task_run (
  logbucket  VARCHAR NOT NULL,
  logkey     VARCHAR NOT NULL
)
COMMENT = 'S3 access logs fallback path: scratch table of task s3_access_logs_transformation (objects of the current run).';

CREATE TRANSIENT TABLE IF NOT EXISTS s3_access_logs_task_parsed (
  logbucket        VARCHAR NOT NULL,
  logkey           VARCHAR NOT NULL,
  logline          NUMBER(38,0) NOT NULL,
  raw              VARCHAR NOT NULL,
  bucketowner      VARCHAR,
  bucket_name      VARCHAR,
  requestdatetime  VARCHAR,
  remoteip         VARCHAR,
  requester        VARCHAR,
  requestid        VARCHAR,
  operation        VARCHAR,
  key              VARCHAR,
  request_uri      VARCHAR,
  httpstatus       NUMBER(38,0),
  errorcode        VARCHAR,
  bytessent        NUMBER(38,0),
  objectsize       NUMBER(38,0),
  totaltime        NUMBER(38,0),
  turnaroundtime   NUMBER(38,0),
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
  aclrequired      BOOLEAN,
  sourceregion     VARCHAR,
  extrafields      VARCHAR,
  reject_reason    VARCHAR
)
COMMENT = 'S3 access logs fallback path: scratch table of task s3_access_logs_transformation (UDTF output of the current run).';

-- The task. WHEN skips runs (and warehouse time) while the stream is empty. The warehouse is the
-- one sql/00-setup.sql creates. No overlap: a run that takes longer than 10 minutes delays the next
-- one instead of racing it on the work tables. The body is a Snowflake Scripting block (no stored
-- procedure, so no role needs CREATE PROCEDURE); each run's counts land in the ledger
-- rows it claimed (claimid), and TASK_HISTORY shows its state and any error.
CREATE OR REPLACE TASK s3_access_logs_transformation
  WAREHOUSE = S3_ACCESS_LOGS_WH
  SCHEDULE = '10 MINUTE'
  ALLOW_OVERLAPPING_EXECUTION = FALSE
  SUSPEND_TASK_AFTER_NUM_FAILURES = 3
  COMMENT = 'S3 access logs fallback path: every 10 minutes, staged lines -> typed rows through the ledger (mode task). Suspended by default; resume only on the fallback path (sql/fallback/README.md).'
  WHEN SYSTEM$STREAM_HAS_DATA('s3_access_logs_stream')
AS
EXECUTE IMMEDIATE
$$
DECLARE
  claim_id VARCHAR DEFAULT UUID_STRING();
  run_at TIMESTAMP_TZ DEFAULT CURRENT_TIMESTAMP();
  -- Lines per run: at the Python UDTF's pace on an X-Small warehouse, far inside the 600 s
  -- statement timeout (sql/00-setup.sql). Lower it if TASK_HISTORY shows runs near the timeout.
  max_lines INTEGER DEFAULT 2000000;
  staged INTEGER DEFAULT 0;
  claimed INTEGER DEFAULT 0;
  typed INTEGER DEFAULT 0;
  rejected INTEGER DEFAULT 0;
  summary VARCHAR;
BEGIN
  -- 1. New lines into the backlog. Reading the stream in a DML statement consumes it at COMMIT.
  BEGIN TRANSACTION;
  INSERT INTO s3_access_logs_task_batch (logbucket, logkey, logline, raw, loadedat)
    SELECT logbucket, logkey, logline, raw, loadedat
    FROM s3_access_logs_stream
    WHERE METADATA$ACTION = 'INSERT'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY logbucket, logkey, logline ORDER BY loadedat DESC) = 1;
  staged := SQLROWCOUNT;
  COMMIT;

  BEGIN TRANSACTION;
  -- This run's share of the backlog: whole objects, oldest first, while the lines before an
  -- object stay under max_lines (so the first object is always taken, however large).
  DELETE FROM s3_access_logs_task_run;
  INSERT INTO s3_access_logs_task_run (logbucket, logkey)
    SELECT logbucket, logkey
    FROM (
      SELECT logbucket, logkey, COUNT(*) AS lines,
             SUM(COUNT(*)) OVER (ORDER BY MIN(loadedat), logbucket, logkey ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto
      FROM s3_access_logs_task_batch
      GROUP BY logbucket, logkey
    )
    WHERE upto - lines < :max_lines;

  -- 2. The claim, first write to the ledger in this transaction (it holds the ledger lock until
  --    COMMIT, so a concurrent Lambda claim of the same object waits and then finds this row).
  MERGE INTO s3_access_logs_loads t
  USING s3_access_logs_task_run s
  ON t.logbucket = s.logbucket AND t.logkey = s.logkey
  WHEN MATCHED AND t.mode = 'raw' THEN UPDATE SET
    mode = 'task', claimid = :claim_id, loadedat = :run_at
  WHEN NOT MATCHED THEN INSERT
    (logbucket, logkey, etag, sequencer, bytes, linecount, rowcount, rejectcount, loadedat, mode, claimid, replayid, loadcount)
    VALUES (s.logbucket, s.logkey, NULL, NULL, NULL, 0, 0, 0, :run_at, 'task', :claim_id, NULL, 1);
  claimed := SQLROWCOUNT;

  -- Claimed objects' earlier typed rows and rejects are replaced, never doubled.
  DELETE FROM s3_access_logs
    USING (SELECT logbucket, logkey FROM s3_access_logs_loads WHERE claimid = :claim_id) c
    WHERE s3_access_logs.logbucket = c.logbucket AND s3_access_logs.logkey = c.logkey;
  DELETE FROM s3_access_logs_rejects
    USING (SELECT logbucket, logkey FROM s3_access_logs_loads WHERE claimid = :claim_id) c
    WHERE s3_access_logs_rejects.logbucket = c.logbucket AND s3_access_logs_rejects.logkey = c.logkey;

  -- 3. Parse the claimed objects' lines once: one UDTF row per line.
  DELETE FROM s3_access_logs_task_parsed;
  INSERT INTO s3_access_logs_task_parsed (
    logbucket, logkey, logline, raw,
    bucketowner, bucket_name, requestdatetime, remoteip, requester, requestid, operation, key,
    request_uri, httpstatus, errorcode, bytessent, objectsize, totaltime, turnaroundtime, referrer,
    useragent, versionid, hostid, sigv, ciphersuite, authtype, endpoint, tlsversion, accesspointarn,
    aclrequired, sourceregion, extrafields, reject_reason)
  SELECT
    c.logbucket, c.logkey, c.logline, c.raw,
    p.bucketowner, p.bucket_name, p.requestdatetime, p.remoteip, p.requester, p.requestid, p.operation, p.key,
    p.request_uri, p.httpstatus, p.errorcode, p.bytessent, p.objectsize, p.totaltime, p.turnaroundtime, p.referrer,
    p.useragent, p.versionid, p.hostid, p.sigv, p.ciphersuite, p.authtype, p.endpoint, p.tlsversion, p.accesspointarn,
    p.aclrequired, p.sourceregion, p.extrafields, p.reject_reason
  FROM (
    SELECT b.logbucket, b.logkey, b.logline, b.raw
    FROM s3_access_logs_task_batch b
    JOIN s3_access_logs_loads l ON l.logbucket = b.logbucket AND l.logkey = b.logkey
    WHERE l.claimid = :claim_id
    QUALIFY ROW_NUMBER() OVER (PARTITION BY b.logbucket, b.logkey, b.logline ORDER BY b.loadedat DESC) = 1
  ) c,
  TABLE(parse_s3_access_logs(c.raw)) p;

  -- 4. Typed rows: the same values, types and lineage the Lambda writes.
  INSERT INTO s3_access_logs (
    bucketowner, bucket_name, requestdatetime, remoteip, requester, requestid, operation, key,
    request_uri, httpstatus, errorcode, bytessent, objectsize, totaltime, turnaroundtime, referrer,
    useragent, versionid, hostid, sigv, ciphersuite, authtype, endpoint, tlsversion, accesspointarn,
    aclrequired, sourceregion, extrafields, logbucket, logkey, logline, loadedat)
  SELECT
    CAST(bucketowner AS VARCHAR),
    CAST(bucket_name AS VARCHAR),
    -- The UDTF gives the parser's ISO-8601 UTC text, e.g. 2019-02-06T00:00:38Z.
    TO_TIMESTAMP_TZ(LEFT(requestdatetime, 19) || ' +0000', 'YYYY-MM-DD"T"HH24:MI:SS TZHTZM'),
    CAST(remoteip AS VARCHAR),
    CAST(requester AS VARCHAR),
    CAST(requestid AS VARCHAR),
    CAST(operation AS VARCHAR),
    CAST(key AS VARCHAR),
    CAST(request_uri AS VARCHAR),
    CAST(httpstatus AS NUMBER(38,0)),
    CAST(errorcode AS VARCHAR),
    CAST(bytessent AS NUMBER(38,0)),
    CAST(objectsize AS NUMBER(38,0)),
    CAST(totaltime AS NUMBER(38,0)),
    CAST(turnaroundtime AS NUMBER(38,0)),
    CAST(referrer AS VARCHAR),
    CAST(useragent AS VARCHAR),
    CAST(versionid AS VARCHAR),
    CAST(hostid AS VARCHAR),
    CAST(sigv AS VARCHAR),
    CAST(ciphersuite AS VARCHAR),
    CAST(authtype AS VARCHAR),
    CAST(endpoint AS VARCHAR),
    CAST(tlsversion AS VARCHAR),
    CAST(accesspointarn AS VARCHAR),
    CAST(aclrequired AS BOOLEAN),
    CAST(sourceregion AS VARCHAR),
    CAST(extrafields AS VARCHAR),
    logbucket,
    logkey,
    CAST(logline AS NUMBER(38,0)),
    :run_at
  FROM s3_access_logs_task_parsed
  WHERE reject_reason IS NULL;
  typed := SQLROWCOUNT;

  -- Unparseable lines, with the UDTF's reason and the line as staged.
  INSERT INTO s3_access_logs_rejects (logbucket, logkey, logline, reason, rawline, loadedat)
    SELECT logbucket, logkey, CAST(logline AS NUMBER(38,0)), reject_reason, raw, :run_at
    FROM s3_access_logs_task_parsed
    WHERE reject_reason IS NOT NULL;
  rejected := SQLROWCOUNT;
  summary := 'staged=' || staged || ' claimed=' || claimed || ' rows=' || typed || ' rejects=' || rejected;

  -- 5. Counts in the ledger: linecount = rowcount + rejectcount, as on the Lambda path.
  UPDATE s3_access_logs_loads t
    SET linecount = s.linecount, rowcount = s.rowcount, rejectcount = s.rejectcount
    FROM (
      SELECT logbucket, logkey,
             COUNT(*) AS linecount,
             COUNT_IF(reject_reason IS NULL) AS rowcount,
             COUNT_IF(reject_reason IS NOT NULL) AS rejectcount
      FROM s3_access_logs_task_parsed
      GROUP BY logbucket, logkey
    ) s
    WHERE t.logbucket = s.logbucket AND t.logkey = s.logkey AND t.claimid = :claim_id;

  -- 6. This share leaves the backlog, claimed or not (an object another path typed is done).
  DELETE FROM s3_access_logs_task_batch
    USING s3_access_logs_task_run r
    WHERE s3_access_logs_task_batch.logbucket = r.logbucket AND s3_access_logs_task_batch.logkey = r.logkey;

  COMMIT;
  -- What the run did, when the block is run by hand (the ledger rows hold the same counts).
  RETURN summary;
EXCEPTION
  WHEN OTHER THEN
    ROLLBACK;
    RAISE;
END;
$$;
