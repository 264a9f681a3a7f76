-- name: Who deleted a given object (including multi-object deletes and lifecycle)
-- Every request that removed the object: single deletes, the per-key BATCH.DELETE.OBJECT lines a
-- multi-object delete (POST ?delete) writes, and lifecycle expirations (S3.EXPIRE.OBJECT, requester
-- AmazonS3). Failed attempts (4xx) are excluded; the seed's LIKE '%DELETE%' kept them.
-- Parameters: the bucket and the key as logged (this one went in the incident's multi-object delete).
SELECT requestdatetime, operation, requester, remoteip, httpstatus, versionid, useragent
FROM s3_access_logs
WHERE bucket_name = 'acme-corp-data'
  AND key = 'finance/payroll/2025/payroll-2025-06.csv'
  AND operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT', 'S3.EXPIRE.OBJECT')
  AND (httpstatus IS NULL OR httpstatus < 300)
ORDER BY requestdatetime;
