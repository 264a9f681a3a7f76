-- name: Who deleted which object
-- The seed quickstart's "Investigate who deleted which object", corrected: it queried the Athena
-- table s3_access_logs_db.mybucket_logs; the typed table here is s3_access_logs. `key` is stored
-- as S3 logs it (URL-encoded), so the key to look for is written the same way.
-- param: key = 'finance/payroll/2026/payroll-2026-10.csv'  the object key, as logged (the default is a payroll export deleted in the sample's incident)
-- param: prefix = null  every key under this prefix instead of one key
-- param: bucket = null  only this bucket
-- param: since = null  only requests at or after this time (ISO-8601 date or time, UTC unless it names an offset)
-- param: until = null  only requests before this time (ISO-8601)
SELECT requestdatetime, bucket_name, remoteip, requester, key, operation, httpstatus
FROM s3_access_logs
WHERE operation LIKE '%DELETE%'
  AND (:key IS NULL OR key = :key)
  AND (:prefix IS NULL OR LEFT(key, LENGTH(:prefix)) = :prefix)
  AND (:bucket IS NULL OR bucket_name = :bucket)
  AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
  AND (:until IS NULL OR requestdatetime < TO_TIMESTAMP_TZ(:until))
ORDER BY requestdatetime;
