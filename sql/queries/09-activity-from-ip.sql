-- name: Everything an IP address did
-- Requests from one address by requester, bucket and operation: who used it, what they touched and
-- how much they took. An address never seen before that reads a lot is the sample's incident.
-- param: ip = '203.0.113.77'  the client IP address (the default is where the sample's incident came from)
-- param: since = null  only requests at or after this time (ISO-8601 date or time, UTC unless it names an offset)
-- param: until = null  only requests before this time (ISO-8601)
SELECT
  COALESCE(requester, '(anonymous)') AS requester,
  bucket_name,
  operation,
  COUNT(*) AS requests,
  COUNT(DISTINCT key) AS objects,
  SUM(COALESCE(bytessent, 0)) AS bytes_sent,
  MIN(requestdatetime) AS first_seen,
  MAX(requestdatetime) AS last_seen
FROM s3_access_logs
WHERE remoteip = :ip
  AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
  AND (:until IS NULL OR requestdatetime < TO_TIMESTAMP_TZ(:until))
GROUP BY COALESCE(requester, '(anonymous)'), bucket_name, operation
ORDER BY first_seen;
