-- Fallback path, Snowpipe, step 3 of 3: the pipe, staging raw lines straight from S3 (the quickstart's way).
-- Run by hand, with your values (setup-snowflake --fallback applies only sql/fallback/*.sql).
--
-- WHEN TO ENABLE: only if the Lambda cannot run at all (function broken, not deployable). While the
-- Lambda runs, use its raw mode (LOAD_MODE=raw) instead: it stages the same lines with the same
-- lineage, through the same exactly-once ledger, without a second S3 notification.
-- To enable: point an S3 event notification (ObjectCreated) at the pipe's notification_channel
-- (SHOW PIPES; S3 refuses it while the stack's own entry covers the same prefix: remove that
-- first), then ALTER PIPE s3_access_logs_pipe SET PIPE_EXECUTION_PAUSED = FALSE; a pipe paused for
-- more than 14 days is stale and resumes only with
-- SELECT SYSTEM$PIPE_FORCE_RESUME('s3_access_logs_pipe', 'STALENESS_CHECK_OVERRIDE');
-- To load objects written while it was off: ALTER PIPE s3_access_logs_pipe REFRESH;
--
-- OFF BY DEFAULT, twice over: nothing notifies the pipe until you add that notification, and the
-- pipe is paused right after creation. Re-applying this file pauses it again.
-- IF NOT EXISTS, not OR REPLACE: replacing a pipe drops its load history, and a REFRESH would then
-- stage already-loaded objects a second time (the task's ledger check would skip them, but the
-- staging table would grow).
--
-- Lineage: logkey is the object key. METADATA$FILENAME is the path of the file in the stage; the
-- IFF makes the key the same whether or not Snowflake includes the stage prefix in it.
-- logline is METADATA$FILE_ROW_NUMBER: the line number in the object, counted from 1.
-- Replace <BUCKET_NAME> and <PREFIX> with the values used in snowpipe/02-stage.sql.

CREATE PIPE IF NOT EXISTS s3_access_logs_pipe
  AUTO_INGEST = TRUE
  COMMENT = 'S3 access logs fallback path: Snowpipe into s3_access_logs_staging. Paused by default; enable only if the Lambda cannot run (see sql/fallback/README.md).'
  AS
  COPY INTO s3_access_logs_staging (logbucket, logkey, logline, raw, loadedat)
  FROM (
    SELECT
      '<BUCKET_NAME>',
      IFF(STARTSWITH(METADATA$FILENAME, '<PREFIX>/'), METADATA$FILENAME, '<PREFIX>/' || METADATA$FILENAME),
      METADATA$FILE_ROW_NUMBER,
      stg.$1,
      CURRENT_TIMESTAMP()
    FROM @s3_access_logs stg
  )
  FILE_FORMAT = (FORMAT_NAME = 'text_format');

ALTER PIPE s3_access_logs_pipe SET PIPE_EXECUTION_PAUSED = TRUE;
