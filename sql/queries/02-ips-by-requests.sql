-- name: IPs by number of requests
-- The seed's query, apart from naming the count and keeping the top 10 for display.
-- param: bucket = null  only this bucket
-- param: since = null  only requests at or after this time (ISO-8601 date or time, UTC unless it names an offset)
-- param: until = null  only requests before this time (ISO-8601)
SELECT remoteip, COUNT(*) AS requests
FROM s3_access_logs
WHERE (:bucket IS NULL OR bucket_name = :bucket)
  AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
  AND (:until IS NULL OR requestdatetime < TO_TIMESTAMP_TZ(:until))
GROUP BY remoteip
ORDER BY requests DESC, remoteip
LIMIT 10;
