-- name: All actions for a specific user
-- The seed's query, corrected: it queried the Athena table s3_access_logs_db.mybucket_logs.
-- Grouped by day, IP and operation so a change of place or behaviour stands out.
-- param: user = 'jdoe'  the requester: a full ARN, or the name after its last "/" (the default is the principal of the sample's incident)
-- param: since = null  only requests at or after this time (ISO-8601 date or time, UTC unless it names an offset)
-- param: until = null  only requests before this time (ISO-8601)
SELECT
  CAST(requestdatetime AS DATE) AS day,
  remoteip,
  operation,
  COUNT(*) AS requests,
  SUM(COALESCE(bytessent, 0)) AS bytes_sent,
  MIN(requestdatetime) AS first_seen,
  MAX(requestdatetime) AS last_seen
FROM s3_access_logs
WHERE (requester = :user OR RIGHT(requester, LENGTH(:user) + 1) = '/' || :user)
  AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
  AND (:until IS NULL OR requestdatetime < TO_TIMESTAMP_TZ(:until))
GROUP BY CAST(requestdatetime AS DATE), remoteip, operation
ORDER BY first_seen;
