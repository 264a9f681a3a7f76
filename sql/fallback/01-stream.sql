-- Fallback path, step 1 of 3: the stream the task (03-task.sql) drains.
-- Applied by `s3-access-logs setup-snowflake --fallback` (sql/fallback/*.sql: no placeholders).
--
-- WHEN TO ENABLE: it is always safe to create; it only records which staging rows are new. Raw lines
-- reach s3_access_logs_staging from the Lambda in raw mode (LOAD_MODE=raw) or from Snowpipe
-- (snowpipe/03-pipe.sql); the staging table itself is created with the other tables (sql/0x-*.sql).
--
-- A standard stream, not APPEND_ONLY: a forced replay deletes an object's staged lines and stages
-- them again; a standard stream nets such a delete out, so the task sees only the lines that are
-- still staged (an append-only stream would also return the deleted ones). The task reads only
-- METADATA$ACTION = 'INSERT' rows.
-- IF NOT EXISTS, not OR REPLACE: replacing a stream resets its offset, and rows staged but not yet
-- transformed would be skipped by the task.

CREATE STREAM IF NOT EXISTS s3_access_logs_stream
  ON TABLE s3_access_logs_staging
  COMMENT = 'S3 access logs fallback path: staging rows the task has not transformed yet.';
