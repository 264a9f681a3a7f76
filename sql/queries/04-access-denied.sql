-- name: Access denied errors
-- The seed's query, corrected: httpstatus is a NUMBER in the typed table, not the string '403'.
-- It lists the columns that matter instead of SELECT *, newest first.
-- param: user = null  only this requester: a full ARN, or the name after its last "/" (jdoe)
-- param: ip = null  only requests from this IP address
-- param: since = null  only requests at or after this time (ISO-8601 date or time, UTC unless it names an offset)
-- param: until = null  only requests before this time (ISO-8601)
SELECT requestdatetime, bucket_name, requester, remoteip, operation, key, errorcode
FROM s3_access_logs
WHERE httpstatus = 403
  AND (:user IS NULL OR requester = :user OR RIGHT(requester, LENGTH(:user) + 1) = '/' || :user)
  AND (:ip IS NULL OR remoteip = :ip)
  AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
  AND (:until IS NULL OR requestdatetime < TO_TIMESTAMP_TZ(:until))
ORDER BY requestdatetime DESC
LIMIT 20;
