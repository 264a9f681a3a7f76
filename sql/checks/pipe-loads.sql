-- Pipe-loads check (load method `pipe`): staged files Snowpipe did not load, and objects whose
-- ledger row disagrees with the rows actually present. Nothing of a source object may vanish
-- silently: a rows file that fails (ON_ERROR = SKIP_FILE loads none of its records) leaves its
-- manifest's ledger row claiming rows that are not there, and shows here twice over.
--
-- Output: one row per problem, columns (problem, tablename, file_name, logbucket, logkey, expected,
-- present, detail):
--   failed_file       COPY_HISTORY of the last 13 days has a file whose STATUS is not 'Loaded' and
--                     that did not load later; detail = its first error. Fix the cause (table
--                     column, file content), then stage the file again (a new notification) or
--                     ALTER PIPE <pipe> REFRESH PREFIX = '<id>'. Whether Snowpipe retries a path
--                     whose load failed is not verified on a real account (packages/snowflake-local/README.md).
--                     13 days, not 14: COPY_HISTORY takes a START_TIME within its 14-day window.
--                     Run the check at least weekly so that no failure ages out unseen.
--   rows_missing      ledger rowcount (parsed) or staged-line count (raw) <> rows present
--   rejects_missing   ledger rejectcount <> rejects present
--   no_ledger_row     rows present for an object with no ledger row (its manifest failed to load)
-- Files load independently and in any order, so an object that is still loading (ledger row from
-- the last few minutes) may show as rows_missing briefly; run the check again after a few minutes.
-- Run it with any role that can read the tables and see the pipes' history (the loader role).
-- It reads ledger rows of the last 14 days and table rows of the last 15 (by loadedat; rows arrive
-- in loadedat order, so Snowflake prunes the older micro-partitions): an object whose files loaded
-- more than a day apart (a pipe paused that long) can show as rows_missing near the window's edge.
-- Cost: one query on the X-Small warehouse; run daily, that is one resume billed at the 60-second
-- minimum = 1 credit/h x 60 s = 0.0167 credits/day at 1, 10 or 100 GB/day alike, as long as the
-- 15-day scan fits in the minute (longer at 100 GB/day: 1 credit/h x its run time). Prices:
-- ../shared/research/loading-and-cost.md (Snowflake Service Consumption Table, 2026-11). In
-- `pipe` the warehouse is otherwise asleep, so this is the check's whole cost.

WITH history AS (
  SELECT 'S3_ACCESS_LOGS' AS tablename, h.* FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(
    TABLE_NAME => 'S3_ACCESS_LOGS', START_TIME => DATEADD(day, -13, CURRENT_TIMESTAMP()))) h
  UNION ALL
  SELECT 'S3_ACCESS_LOGS_REJECTS', h.* FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(
    TABLE_NAME => 'S3_ACCESS_LOGS_REJECTS', START_TIME => DATEADD(day, -13, CURRENT_TIMESTAMP()))) h
  UNION ALL
  SELECT 'S3_ACCESS_LOGS_STAGING', h.* FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(
    TABLE_NAME => 'S3_ACCESS_LOGS_STAGING', START_TIME => DATEADD(day, -13, CURRENT_TIMESTAMP()))) h
  UNION ALL
  SELECT 'S3_ACCESS_LOGS_LOADS', h.* FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(
    TABLE_NAME => 'S3_ACCESS_LOGS_LOADS', START_TIME => DATEADD(day, -13, CURRENT_TIMESTAMP()))) h
),
ledger AS (
  SELECT logbucket, logkey, mode, rowcount, rejectcount FROM s3_access_logs_loads
  WHERE claimid LIKE 'pipe:%' AND loadedat >= DATEADD(day, -14, CURRENT_TIMESTAMP())
),
typed AS (
  SELECT logbucket, logkey, COUNT(*) AS n FROM s3_access_logs
  WHERE loadedat >= DATEADD(day, -15, CURRENT_TIMESTAMP()) GROUP BY logbucket, logkey
),
rejected AS (
  SELECT logbucket, logkey, COUNT(*) AS n FROM s3_access_logs_rejects
  WHERE loadedat >= DATEADD(day, -15, CURRENT_TIMESTAMP()) GROUP BY logbucket, logkey
),
staged AS (
  SELECT logbucket, logkey, COUNT(*) AS n FROM s3_access_logs_staging
  WHERE loadedat >= DATEADD(day, -15, CURRENT_TIMESTAMP()) GROUP BY logbucket, logkey
)
SELECT 'failed_file' AS problem, h.tablename, h.stage_location || h.file_name AS file_name,
       NULL AS logbucket, NULL AS logkey, NULL AS expected, NULL AS present,
       h.status || ': ' || COALESCE(h.first_error_message, '(no message)')
         || COALESCE(' (line ' || h.first_error_line_number || ')', '') AS detail
FROM history h
WHERE h.status <> 'Loaded'
  AND NOT EXISTS (SELECT 1 FROM history ok WHERE ok.status = 'Loaded' AND ok.tablename = h.tablename
                  AND ok.stage_location = h.stage_location AND ok.file_name = h.file_name)
UNION ALL
SELECT 'rows_missing', IFF(l.mode = 'raw', 'S3_ACCESS_LOGS_STAGING', 'S3_ACCESS_LOGS'), NULL,
       l.logbucket, l.logkey, l.rowcount, COALESCE(IFF(l.mode = 'raw', s.n, t.n), 0),
       'the ledger counts ' || l.rowcount || ' row(s), ' || COALESCE(IFF(l.mode = 'raw', s.n, t.n), 0) || ' present'
FROM ledger l
LEFT JOIN typed t ON t.logbucket = l.logbucket AND t.logkey = l.logkey
LEFT JOIN staged s ON s.logbucket = l.logbucket AND s.logkey = l.logkey
WHERE COALESCE(IFF(l.mode = 'raw', s.n, t.n), 0) <> l.rowcount
UNION ALL
SELECT 'rejects_missing', 'S3_ACCESS_LOGS_REJECTS', NULL, l.logbucket, l.logkey, l.rejectcount, COALESCE(r.n, 0),
       'the ledger counts ' || l.rejectcount || ' reject(s), ' || COALESCE(r.n, 0) || ' present'
FROM ledger l
LEFT JOIN rejected r ON r.logbucket = l.logbucket AND r.logkey = l.logkey
WHERE COALESCE(r.n, 0) <> l.rejectcount
UNION ALL
SELECT 'no_ledger_row', x.tablename, NULL, x.logbucket, x.logkey, NULL, x.n,
       x.n || ' row(s) present but no ledger row: the object''s manifest did not load'
FROM (
  SELECT 'S3_ACCESS_LOGS' AS tablename, logbucket, logkey, n FROM typed
  UNION ALL SELECT 'S3_ACCESS_LOGS_REJECTS', logbucket, logkey, n FROM rejected
  UNION ALL SELECT 'S3_ACCESS_LOGS_STAGING', logbucket, logkey, n FROM staged
) x
WHERE NOT EXISTS (SELECT 1 FROM s3_access_logs_loads l WHERE l.logbucket = x.logbucket AND l.logkey = x.logkey)
ORDER BY problem, tablename, file_name, logbucket, logkey;
