-- Fallback path, Snowpipe, step 2 of 3: where Snowflake reads the raw log objects from (stage, file format).
-- Run by hand, with your values (setup-snowflake --fallback applies only sql/fallback/*.sql).
--
-- WHEN TO ENABLE: only if you want Snowpipe to stage raw lines (snowpipe/03-pipe.sql). The Lambda path and
-- the Lambda's raw mode (LOAD_MODE=raw) do not use these objects: they read S3 themselves. Applying
-- this file changes no data and loads nothing.
--
-- From the quickstart (../shared/seed). Needs the integration of snowpipe/01-storage-integration.sql.
-- Replace <BUCKET_NAME> and <PREFIX> with the values used there.
-- Idempotent: IF NOT EXISTS.

-- One record per line, no field splitting: the UDTF does the parsing.
-- REPLACE_INVALID_CHARACTERS: a line with invalid UTF-8 is kept (with U+FFFD) instead of failing the
-- file; Snowpipe's default ON_ERROR is SKIP_FILE, which would drop every line of the object.
CREATE FILE FORMAT IF NOT EXISTS text_format
  TYPE = 'CSV'
  FIELD_DELIMITER = NONE
  SKIP_BLANK_LINES = TRUE
  ESCAPE_UNENCLOSED_FIELD = NONE
  FIELD_OPTIONALLY_ENCLOSED_BY = NONE
  REPLACE_INVALID_CHARACTERS = TRUE
  COMPRESSION = AUTO
  COMMENT = 'S3 access logs fallback path: one raw log line per record.';

-- The trailing slash matters: the stage covers exactly the log prefix.
CREATE STAGE IF NOT EXISTS s3_access_logs
  URL = 's3://<BUCKET_NAME>/<PREFIX>/'
  STORAGE_INTEGRATION = s3_int_s3_access_logs
  FILE_FORMAT = text_format
  COMMENT = 'S3 access logs fallback path: the access-log prefix. Check with LIST @s3_access_logs.';
