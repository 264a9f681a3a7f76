-- What the loader role (S3_ACCESS_LOGS_LOADER, the Lambda functions' service user) may do to the
-- tables, and nothing more. Applied last by `s3-access-logs setup-snowflake`, as the owner role
-- S3_ACCESS_LOGS_ADMIN (sql/00-setup.sql), once the tables exist. Not applied by the local stack.
-- Idempotent: granting a privilege a role already has changes nothing.
--
-- Why each privilege (the `insert` load method, shared/snowflake/loader.ts; backfill,
-- functions/backfill/ledger.ts):
--   SELECT, INSERT  rows, rejects and staged lines of each object; the ledger's claim MERGE
--                   inserts a row per new object and reads back the ones it won.
--   DELETE          a forced replay replaces an object's rows, rejects and staged lines.
--   UPDATE (ledger) a forced replay re-claims the ledger row; the counts are written back.
-- No DELETE on the ledger: a leaked key cannot erase the record of what loaded. No TRUNCATE,
-- ALTER, DROP or OWNERSHIP anywhere. With the `pipe` load method the ingest Lambda uses none of
-- this (the pipes, owned by S3_ACCESS_LOGS_ADMIN, load the files); these grants then serve forced
-- replays through `insert` and backfill's ledger look-up.

GRANT SELECT, INSERT, DELETE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs TO ROLE S3_ACCESS_LOGS_LOADER;
GRANT SELECT, INSERT, DELETE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_rejects TO ROLE S3_ACCESS_LOGS_LOADER;
GRANT SELECT, INSERT, DELETE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_staging TO ROLE S3_ACCESS_LOGS_LOADER;
GRANT SELECT, INSERT, UPDATE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_loads TO ROLE S3_ACCESS_LOGS_LOADER;
