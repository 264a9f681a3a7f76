-- Completeness watermark: per source bucket, how fresh and how regular its logs are.
--
--   newest_request  newest request time loaded for the bucket
--   newest_load     newest commit (loadedat) of one of its rows
--   log_objects     log objects that held its requests
--   delivery_lag_*  seconds from an object's newest request to its delivery, read from the log
--                   object's name (S3 names each object with its delivery time:
--                   ...YYYY-mm-DD-HH-MM-SS-<16 hex>); NULL for objects not named that way
--   load_lag_*      seconds from the object's delivery to its rows' commit in Snowflake
--   gap_p95_s, gap_max_s  the usual and the longest silence between the bucket's consecutive log
--                   objects (by their newest request); logs-stopped compares today's silence to it
-- All over the 30 days up to the newest request of any bucket: a bucket silent for longer drops out
-- of the view (and logs-stopped reports it for those 30 days).
--
-- S3 delivers server access logs on a best-effort basis: most records arrive within a few hours
-- of the request, some later, and a few never (AWS, "Amazon S3 server access logging", section
-- "Best effort server log delivery",
-- https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html, read 2026-11-30).
-- Expect delivery_lag_p50_s of minutes to an hour and p99 of a few hours; treat the last hours
-- before newest_request as incomplete. Reference: docs/detections.md ("Completeness").

CREATE OR REPLACE VIEW s3_access_logs_watermark AS
WITH objects AS (
  SELECT
    bucket_name,
    logbucket,
    logkey,
    MAX(requestdatetime) AS newest_request,
    MAX(loadedat) AS loadedat,
    TRY_TO_TIMESTAMP_TZ(LEFT(RIGHT(logkey, 36), 19) || ' +0000', 'YYYY-MM-DD-HH24-MI-SS TZHTZM') AS delivered
  FROM s3_access_logs
  -- The last 30 days before the newest request (a metadata lookup in Snowflake): enough history
  -- for a usual gap, and a cost that does not grow with the table.
  WHERE requestdatetime >= DATEADD('day', -30, (SELECT MAX(requestdatetime) FROM s3_access_logs))
  GROUP BY bucket_name, logbucket, logkey
),
timed AS (
  SELECT
    bucket_name,
    newest_request,
    loadedat,
    DATEDIFF('second', newest_request, delivered) AS delivery_lag_s,
    DATEDIFF('second', delivered, loadedat) AS load_lag_s,
    DATEDIFF('second', LAG(newest_request) OVER (PARTITION BY bucket_name ORDER BY newest_request), newest_request) AS gap_s
  FROM objects
)
SELECT
  bucket_name,
  MAX(newest_request) AS newest_request,
  MAX(loadedat) AS newest_load,
  COUNT(*) AS log_objects,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY delivery_lag_s) AS delivery_lag_p50_s,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY delivery_lag_s) AS delivery_lag_p95_s,
  PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY delivery_lag_s) AS delivery_lag_p99_s,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY load_lag_s) AS load_lag_p50_s,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY load_lag_s) AS load_lag_p95_s,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY gap_s) AS gap_p95_s,
  MAX(gap_s) AS gap_max_s
FROM timed
GROUP BY bucket_name;
