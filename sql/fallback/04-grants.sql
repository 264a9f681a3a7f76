-- Fallback path, step 4: the task runs under its own role, S3_ACCESS_LOGS_TASK (sql/00-setup.sql).
-- Applied by `s3-access-logs setup-snowflake --fallback` (sql/fallback/*.sql: no placeholders), as
-- the owner role S3_ACCESS_LOGS_ADMIN, after 01-03 created the objects.
--
-- WHEN TO ENABLE: always safe to apply; it grants, it runs nothing (the task stays suspended).
--
-- A task runs with the privileges of the role that owns it, so the task is handed to a role that
-- can do exactly what its body does (03-task.sql) and nothing else: read the stream and the
-- staging table under it, use the UDTF, claim objects in the ledger, replace their rows and
-- rejects, and fill its own work tables. It cannot DROP, TRUNCATE or ALTER any table, nor create
-- anything. EXECUTE TASK (00-setup.sql, ACCOUNTADMIN) lets it run.
-- Re-applying 03-task.sql (CREATE OR REPLACE) makes S3_ACCESS_LOGS_ADMIN the owner again: apply
-- this file after it, as setup-snowflake --fallback does.

GRANT SELECT ON STREAM S3_ACCESS_LOGS.PUBLIC.s3_access_logs_stream TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_staging TO ROLE S3_ACCESS_LOGS_TASK;
GRANT USAGE ON FUNCTION S3_ACCESS_LOGS.PUBLIC.parse_s3_access_logs(VARCHAR) TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT, INSERT, UPDATE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_loads TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT, INSERT, DELETE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT, INSERT, DELETE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_rejects TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT, INSERT, DELETE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_task_batch TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT, INSERT, DELETE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_task_parsed TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT, INSERT, DELETE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_task_run TO ROLE S3_ACCESS_LOGS_TASK;

-- Last: the task itself. COPY CURRENT GRANTS keeps any grant made on it before.
GRANT OWNERSHIP ON TASK S3_ACCESS_LOGS.PUBLIC.s3_access_logs_transformation TO ROLE S3_ACCESS_LOGS_TASK COPY CURRENT GRANTS;
