-- Load method `pipe`, deployed only: the storage integration, Snowflake's IAM identity for the
-- staging bucket. Step 1 of the AWS/Snowflake trust handshake (docs/pipe-setup.md walks through
-- all of it).
--
-- RUN AS ACCOUNTADMIN, once: only account administrators may create integrations.
--   s3-access-logs setup-snowflake --setup --staging-url <StagingUrl> --staging-role-arn <SnowflakeStagingRoleArn>
-- fills in the stack's outputs (checked against strict patterns) and then prints DESC INTEGRATION's
-- STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID for the next deploy. By hand: replace
-- <STAGING_ROLE_ARN> and <STAGING_URL> (s3://<bucket>/<prefix>/, with the trailing slash).
-- Not applied by the local stack: snowflake-local's stage uses CREDENTIALS instead.
--
-- IF NOT EXISTS, never OR REPLACE: replacing the integration mints a new IAM user and external id,
-- and the role's trust policy (deployed with the old ones) would stop working. To point it at
-- another role or bucket: ALTER STORAGE INTEGRATION, then DESC INTEGRATION again.

CREATE STORAGE INTEGRATION IF NOT EXISTS s3_access_logs_staging
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = '<STAGING_ROLE_ARN>'
  STORAGE_ALLOWED_LOCATIONS = ('<STAGING_URL>')
  COMMENT = 's3-access-logs (load method pipe): read access to the staging prefix for stage s3_access_logs_stage';

-- The owner role (S3_ACCESS_LOGS_ADMIN, sql/00-setup.sql) creates the stage on it
-- (shared/snowflake/pipe-sql.ts) and owns the pipes; the loader role never needs it.
GRANT USAGE ON INTEGRATION s3_access_logs_staging TO ROLE S3_ACCESS_LOGS_ADMIN;
