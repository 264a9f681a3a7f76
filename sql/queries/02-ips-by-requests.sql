-- name: IPs by number of requests
-- The seed's query, unchanged apart from naming the count and keeping the top 10 for display.
SELECT remoteip, COUNT(*) AS requests
FROM s3_access_logs
GROUP BY remoteip
ORDER BY requests DESC, remoteip
LIMIT 10;
