-- Fallback path, step 1 of 5: where Snowflake reads the raw log objects from.
--
-- WHEN TO ENABLE: only if you want Snowpipe to stage raw lines (03-pipe.sql). The Lambda path and
-- the Lambda's raw mode (LOAD_MODE=raw) do not use these objects: they read S3 themselves. Applying
-- this file changes no data and loads nothing.
--
-- From the quickstart (../shared/seed). Replace the placeholders before running:
--   <AWS_ACCOUNT_NUMBER>, <RoleName>  the IAM role Snowflake assumes (see README "Fallback and parity path")
--   <BUCKET_NAME>, <PREFIX>           the access-log bucket and prefix, no leading/trailing slash
-- The same <BUCKET_NAME>/<PREFIX> appear in 03-pipe.sql; use identical values.
-- Idempotent: IF NOT EXISTS keeps the integration's IAM user and external id stable across re-runs
-- (CREATE OR REPLACE would mint new ones and break the role's trust policy).

CREATE STORAGE INTEGRATION IF NOT EXISTS s3_int_s3_access_logs
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::<AWS_ACCOUNT_NUMBER>:role/<RoleName>'
  STORAGE_ALLOWED_LOCATIONS = ('s3://<BUCKET_NAME>/<PREFIX>/')
  COMMENT = 'S3 access logs fallback path: read access for stage s3_access_logs. Needed only when Snowpipe stages raw lines.';

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
