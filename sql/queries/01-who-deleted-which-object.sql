-- name: Who deleted which object
-- The seed quickstart's "Investigate who deleted which object", corrected: it queried the Athena
-- table s3_access_logs_db.mybucket_logs; the typed table here is s3_access_logs. `key` is stored
-- as S3 logs it (URL-encoded), so the key to look for is written the same way.
-- Parameter: the object key (a payroll export deleted in the sample's planted incident).
SELECT requestdatetime, remoteip, requester, key, operation, httpstatus
FROM s3_access_logs
WHERE key = 'finance/payroll/2026/payroll-2026-10.csv'
  AND operation LIKE '%DELETE%'
ORDER BY requestdatetime;
