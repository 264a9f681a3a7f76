-- name: Anonymous requests
-- The seed's query: unauthenticated requests have requester `-` in the log, NULL in the typed
-- table. Summarised by bucket, operation and status rather than SELECT *.
-- param: bucket = null  only this bucket
-- param: since = null  only requests at or after this time (ISO-8601 date or time, UTC unless it names an offset)
-- param: until = null  only requests before this time (ISO-8601)
SELECT bucket_name, operation, httpstatus, COUNT(*) AS requests, COUNT(DISTINCT remoteip) AS ips, SUM(COALESCE(bytessent, 0)) AS bytes_sent
FROM s3_access_logs
WHERE requester IS NULL
  AND (:bucket IS NULL OR bucket_name = :bucket)
  AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
  AND (:until IS NULL OR requestdatetime < TO_TIMESTAMP_TZ(:until))
GROUP BY bucket_name, operation, httpstatus
ORDER BY requests DESC, bucket_name, operation
LIMIT 15;
