-- Fallback path, Snowpipe, step 1 of 3: the storage integration, Snowflake's IAM identity for the log bucket.
-- Run by hand, with your values (setup-snowflake --fallback applies only sql/fallback/*.sql).
--
-- WHEN TO ENABLE: only if you want Snowpipe to stage raw lines (snowpipe/03-pipe.sql). The Lambda path and
-- the Lambda's raw mode (LOAD_MODE=raw) do not use it: they read S3 themselves.
--
-- RUN AS ACCOUNTADMIN, once (only account administrators may create integrations); the other
-- files run as the owner role (S3_ACCESS_LOGS_ADMIN, sql/00-setup.sql), which then owns the stage and pipe. From the quickstart
-- (../shared/seed). Replace the placeholders first:
--   <AWS_ACCOUNT_NUMBER>, <RoleName>  the IAM role Snowflake assumes
--   <BUCKET_NAME>, <PREFIX>           the access-log bucket and prefix, no leading/trailing slash
-- The same <BUCKET_NAME>/<PREFIX> appear in snowpipe/02-stage.sql and snowpipe/03-pipe.sql: use identical values.
-- Then DESC INTEGRATION s3_int_s3_access_logs; and put its STORAGE_AWS_IAM_USER_ARN and
-- STORAGE_AWS_EXTERNAL_ID in the role's trust policy (quickstart, "Create a role for Snowflake").
-- Idempotent: IF NOT EXISTS keeps the integration's IAM user and external id stable across re-runs
-- (CREATE OR REPLACE would mint new ones and break the role's trust policy).

CREATE STORAGE INTEGRATION IF NOT EXISTS s3_int_s3_access_logs
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::<AWS_ACCOUNT_NUMBER>:role/<RoleName>'
  STORAGE_ALLOWED_LOCATIONS = ('s3://<BUCKET_NAME>/<PREFIX>/')
  COMMENT = 'S3 access logs fallback path: read access for stage s3_access_logs. Needed only when Snowpipe stages raw lines.';

-- The owner role creates the stage on it (snowpipe/02-stage.sql).
GRANT USAGE ON INTEGRATION s3_int_s3_access_logs TO ROLE S3_ACCESS_LOGS_ADMIN;
