-- One-time Snowflake account setup for s3-access-logs: a database, an X-Small warehouse, a role
-- with only the privileges the pipeline needs, and a service user that logs in with a key pair.
--
-- Run it once as an administrator (a user holding SYSADMIN and SECURITYADMIN, e.g. ACCOUNTADMIN):
--   s3-access-logs setup-snowflake --setup --public-key rsa_key.pub
-- (or paste it into a Snowsight worksheet and add the public key by hand, see the README).
-- It is NOT applied by the local stack: snowflake-local has no roles, users or warehouses.
--
-- Every statement is idempotent (IF NOT EXISTS / GRANT), so running it again changes nothing.
-- To use other names, edit them here and in the Secrets Manager secret (role, warehouse,
-- database, schema, username) consistently.

-- Objects that hold data or burn credits belong to SYSADMIN, as Snowflake recommends.
USE ROLE SYSADMIN;

CREATE DATABASE IF NOT EXISTS S3_ACCESS_LOGS
  COMMENT = 'S3 server access logs loaded by s3-access-logs';

-- X-Small is plenty: each load is one INSERT of a few thousand rows per log object. A 60-second
-- auto-suspend stops billing one minute after the last load (billing has a 60-second minimum per
-- resume, so a shorter suspend saves nothing); auto-resume starts it on the next statement.
CREATE WAREHOUSE IF NOT EXISTS S3_ACCESS_LOGS_WH
  WAREHOUSE_SIZE = XSMALL
  AUTO_SUSPEND = 60
  AUTO_RESUME = TRUE
  INITIALLY_SUSPENDED = TRUE
  -- A runaway statement is cancelled after 10 minutes instead of billing for hours.
  STATEMENT_TIMEOUT_IN_SECONDS = 600
  COMMENT = 'Loads S3 server access logs (s3-access-logs)';

-- Roles, users and grants are SECURITYADMIN's job.
USE ROLE SECURITYADMIN;

CREATE ROLE IF NOT EXISTS S3_ACCESS_LOGS_LOADER
  COMMENT = 'Loads S3 server access logs: creates and writes the s3_access_logs tables';
-- Role hierarchy: SYSADMIN can manage everything the loader role creates.
GRANT ROLE S3_ACCESS_LOGS_LOADER TO ROLE SYSADMIN;

-- TYPE = SERVICE: a non-human user; it cannot log in with a password, only with its key pair
-- (the public key is set with ALTER USER ... SET RSA_PUBLIC_KEY, which setup-snowflake
-- --public-key does). Its defaults let the Lambda connect with just the secret's fields.
CREATE USER IF NOT EXISTS S3_ACCESS_LOGS_LOADER
  TYPE = SERVICE
  DEFAULT_ROLE = S3_ACCESS_LOGS_LOADER
  DEFAULT_WAREHOUSE = S3_ACCESS_LOGS_WH
  DEFAULT_NAMESPACE = S3_ACCESS_LOGS.PUBLIC
  COMMENT = 'Service user of the s3-access-logs Lambda functions (key-pair authentication)';
GRANT ROLE S3_ACCESS_LOGS_LOADER TO USER S3_ACCESS_LOGS_LOADER;

-- Run statements on the warehouse (and resume it); nothing else on it.
GRANT USAGE ON WAREHOUSE S3_ACCESS_LOGS_WH TO ROLE S3_ACCESS_LOGS_LOADER;

-- See the database and schema. The role creates the tables itself (setup-snowflake without
-- --setup), so it owns them and can insert, delete and select without further grants.
GRANT USAGE ON DATABASE S3_ACCESS_LOGS TO ROLE S3_ACCESS_LOGS_LOADER;
GRANT USAGE ON SCHEMA S3_ACCESS_LOGS.PUBLIC TO ROLE S3_ACCESS_LOGS_LOADER;
GRANT CREATE TABLE ON SCHEMA S3_ACCESS_LOGS.PUBLIC TO ROLE S3_ACCESS_LOGS_LOADER;
GRANT CREATE VIEW ON SCHEMA S3_ACCESS_LOGS.PUBLIC TO ROLE S3_ACCESS_LOGS_LOADER;

-- The fallback path (sql/fallback/: stage, Snowpipe, stream, task and the Python UDTF) creates
-- these objects in the same schema. Without the fallback they are unused but harmless.
GRANT CREATE STAGE, CREATE FILE FORMAT, CREATE PIPE, CREATE STREAM, CREATE TASK, CREATE FUNCTION
  ON SCHEMA S3_ACCESS_LOGS.PUBLIC TO ROLE S3_ACCESS_LOGS_LOADER;

-- Tasks run only for roles allowed to execute them, and the fallback's storage integration can
-- only be created by an account administrator. This last part needs ACCOUNTADMIN; if you do not
-- use the fallback path, it may fail without harm (everything above is already applied).
USE ROLE ACCOUNTADMIN;
GRANT EXECUTE TASK ON ACCOUNT TO ROLE S3_ACCESS_LOGS_LOADER;
