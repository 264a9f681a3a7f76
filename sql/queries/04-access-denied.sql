-- name: Access denied errors
-- The seed's query, corrected: httpstatus is a NUMBER in the typed table, not the string '403'.
-- It lists the columns that matter instead of SELECT *, newest first.
SELECT requestdatetime, bucket_name, requester, remoteip, operation, key, errorcode
FROM s3_access_logs
WHERE httpstatus = 403
ORDER BY requestdatetime DESC
LIMIT 20;
