-- Optional detection schedule, step 3: the task runs under S3_ACCESS_LOGS_TASK (sql/00-setup.sql),
-- like the fallback task. Applied by `s3-access-logs setup-snowflake --schedule`, as the owner
-- role S3_ACCESS_LOGS_ADMIN, after 01-02 created the objects.
--
-- A task runs with the privileges of the role that owns it (and that role needs EXECUTE TASK,
-- which only S3_ACCESS_LOGS_TASK has), so the task is handed to a role that can do exactly what
-- its body does: read the three views the detections read and merge into the findings table.
-- Re-applying 02-task.sql (CREATE OR REPLACE) makes S3_ACCESS_LOGS_ADMIN the owner again: apply
-- this file after it, as setup-snowflake --schedule does.

GRANT SELECT ON VIEW S3_ACCESS_LOGS.PUBLIC.s3_access_logs_classified TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT ON VIEW S3_ACCESS_LOGS.PUBLIC.s3_access_logs_enriched TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT ON VIEW S3_ACCESS_LOGS.PUBLIC.s3_access_logs_watermark TO ROLE S3_ACCESS_LOGS_TASK;
GRANT SELECT, INSERT, UPDATE ON TABLE S3_ACCESS_LOGS.PUBLIC.s3_access_logs_findings TO ROLE S3_ACCESS_LOGS_TASK;

-- Last: the task itself. COPY CURRENT GRANTS keeps any grant made on it before.
GRANT OWNERSHIP ON TASK S3_ACCESS_LOGS.PUBLIC.s3_access_logs_detect TO ROLE S3_ACCESS_LOGS_TASK COPY CURRENT GRANTS;
