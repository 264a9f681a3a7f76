-- One-time Snowflake account setup for s3-access-logs: a database, an X-Small warehouse, three
-- roles with only the privileges each needs, and a service user that logs in with a key pair.
--
-- Run it once as an administrator (a user holding SYSADMIN and SECURITYADMIN, e.g. ACCOUNTADMIN):
--   s3-access-logs setup-snowflake --setup --public-key rsa_key.pub
-- (or paste it into a Snowsight worksheet and add the public key by hand, see the README).
-- It is NOT applied by the local stack: snowflake-local has no roles, users or warehouses.
--
-- Least privilege (docs/security.md has the whole list and why):
--   S3_ACCESS_LOGS_ADMIN   owns the database, the schema and every object in it (tables, file
--                          format, stage, pipes, stream, function). setup-snowflake creates the
--                          objects under this role; no service user holds it.
--   S3_ACCESS_LOGS_LOADER  the Lambda functions' role (`insert` load method, forced replays,
--                          backfill): USAGE on warehouse, database and schema here, and only
--                          SELECT/INSERT (+ DELETE on the data tables, UPDATE on the ledger) on
--                          the four tables, granted in sql/grants.sql once they exist. It cannot
--                          DROP, TRUNCATE or ALTER anything, nor create stages, pipes, tasks or
--                          functions. With the `pipe` load method the ingest Lambda needs no
--                          Snowflake access at all: the pipes belong to S3_ACCESS_LOGS_ADMIN and
--                          load by themselves.
--   S3_ACCESS_LOGS_TASK    owns and runs the fallback task (a task runs with its owner's
--                          privileges); its grants are in sql/fallback/04-grants.sql.
--
-- Every statement is idempotent (IF NOT EXISTS / GRANT), so running it again changes nothing.
-- To use other names, edit them here, in sql/grants.sql, sql/fallback/04-grants.sql and in the
-- Secrets Manager secret (role, warehouse, database, schema, username) consistently.

-- Roles, users and grants are SECURITYADMIN's job.
USE ROLE SECURITYADMIN;

CREATE ROLE IF NOT EXISTS S3_ACCESS_LOGS_ADMIN
  COMMENT = 'Owns the s3_access_logs database, schema and objects; setup-snowflake runs as it';
CREATE ROLE IF NOT EXISTS S3_ACCESS_LOGS_LOADER
  COMMENT = 'Loads S3 server access logs: reads and writes the s3_access_logs tables, owns nothing';
CREATE ROLE IF NOT EXISTS S3_ACCESS_LOGS_TASK
  COMMENT = 'Owns and runs the fallback task s3_access_logs_transformation';
-- Role hierarchy, as Snowflake recommends: SYSADMIN can manage everything the admin role owns,
-- and the admin role can act as the other two (to resume the task, to test a load).
GRANT ROLE S3_ACCESS_LOGS_ADMIN TO ROLE SYSADMIN;
GRANT ROLE S3_ACCESS_LOGS_LOADER TO ROLE S3_ACCESS_LOGS_ADMIN;
GRANT ROLE S3_ACCESS_LOGS_TASK TO ROLE S3_ACCESS_LOGS_ADMIN;

-- Objects that hold data or burn credits are created by SYSADMIN, as Snowflake recommends.
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

-- The admin role owns the database and its schema, so it can create the objects and grant on
-- them; SYSADMIN keeps control through the role hierarchy. COPY CURRENT GRANTS keeps any grant
-- made before. (SYSADMIN holds S3_ACCESS_LOGS_ADMIN, which Snowflake requires for the transfer.)
GRANT OWNERSHIP ON DATABASE S3_ACCESS_LOGS TO ROLE S3_ACCESS_LOGS_ADMIN COPY CURRENT GRANTS;
GRANT OWNERSHIP ON SCHEMA S3_ACCESS_LOGS.PUBLIC TO ROLE S3_ACCESS_LOGS_ADMIN COPY CURRENT GRANTS;

-- Run statements on the warehouse (and resume it); nothing else on it. The warehouse stays
-- SYSADMIN's: no pipeline role can resize it or change its timeouts.
GRANT USAGE ON WAREHOUSE S3_ACCESS_LOGS_WH TO ROLE S3_ACCESS_LOGS_ADMIN;
GRANT USAGE ON WAREHOUSE S3_ACCESS_LOGS_WH TO ROLE S3_ACCESS_LOGS_LOADER;
GRANT USAGE ON WAREHOUSE S3_ACCESS_LOGS_WH TO ROLE S3_ACCESS_LOGS_TASK;

USE ROLE SECURITYADMIN;

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

-- See the database and schema; what each may do to the objects in it is granted per object
-- (sql/grants.sql, sql/fallback/04-grants.sql), after setup-snowflake created them.
GRANT USAGE ON DATABASE S3_ACCESS_LOGS TO ROLE S3_ACCESS_LOGS_LOADER;
GRANT USAGE ON SCHEMA S3_ACCESS_LOGS.PUBLIC TO ROLE S3_ACCESS_LOGS_LOADER;
GRANT USAGE ON DATABASE S3_ACCESS_LOGS TO ROLE S3_ACCESS_LOGS_TASK;
GRANT USAGE ON SCHEMA S3_ACCESS_LOGS.PUBLIC TO ROLE S3_ACCESS_LOGS_TASK;

-- A task runs only if its owner role may execute tasks, which only an account administrator can
-- grant. Needed only for the fallback task; if you do not use the fallback path, this last
-- statement may fail without harm (everything above is already applied).
USE ROLE ACCOUNTADMIN;
GRANT EXECUTE TASK ON ACCOUNT TO ROLE S3_ACCESS_LOGS_TASK;
