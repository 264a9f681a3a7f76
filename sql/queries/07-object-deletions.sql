-- name: Who deleted a given object (including multi-object deletes and lifecycle)
-- Every request that removed the object: single deletes, the per-key BATCH.DELETE.OBJECT lines a
-- multi-object delete (POST ?delete) writes, and lifecycle expirations (S3.EXPIRE.OBJECT, requester
-- AmazonS3). Failed attempts (4xx) are excluded; the seed's LIKE '%DELETE%' kept them.
-- param: bucket = 'acme-corp-data'  the bucket
-- param: key = 'finance/payroll/2025/payroll-2025-06.csv'  the object key, as logged (the default went in the incident's multi-object delete)
-- param: prefix = null  every key under this prefix instead of one key
-- param: since = null  only requests at or after this time (ISO-8601 date or time, UTC unless it names an offset)
-- param: until = null  only requests before this time (ISO-8601)
SELECT requestdatetime, operation, requester, remoteip, key, httpstatus, versionid, useragent
FROM s3_access_logs
WHERE (:bucket IS NULL OR bucket_name = :bucket)
  AND (:key IS NULL OR key = :key)
  AND (:prefix IS NULL OR LEFT(key, LENGTH(:prefix)) = :prefix)
  AND operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT', 'S3.EXPIRE.OBJECT')
  AND (httpstatus IS NULL OR httpstatus < 300)
  AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
  AND (:until IS NULL OR requestdatetime < TO_TIMESTAMP_TZ(:until))
ORDER BY requestdatetime;
