-- name: All actions for a specific user
-- The seed's query, corrected: it queried the Athena table s3_access_logs_db.mybucket_logs.
-- Grouped by day, IP and operation so a change of place or behaviour stands out.
-- Parameter: the requester ARN (the principal of the sample's planted incident).
SELECT
  CAST(requestdatetime AS DATE) AS day,
  remoteip,
  operation,
  COUNT(*) AS requests,
  SUM(COALESCE(bytessent, 0)) AS bytes_sent,
  MIN(requestdatetime) AS first_seen,
  MAX(requestdatetime) AS last_seen
FROM s3_access_logs
WHERE requester = 'arn:aws:iam::111122223333:user/jdoe'
GROUP BY CAST(requestdatetime AS DATE), remoteip, operation
ORDER BY first_seen;
