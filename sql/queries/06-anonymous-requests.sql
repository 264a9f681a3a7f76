-- name: Anonymous requests
-- The seed's query: unauthenticated requests have requester `-` in the log, NULL in the typed
-- table. Summarised by bucket, operation and status rather than SELECT *.
SELECT bucket_name, operation, httpstatus, COUNT(*) AS requests, COUNT(DISTINCT remoteip) AS ips, SUM(COALESCE(bytessent, 0)) AS bytes_sent
FROM s3_access_logs
WHERE requester IS NULL
GROUP BY bucket_name, operation, httpstatus
ORDER BY requests DESC, bucket_name, operation
LIMIT 15;
