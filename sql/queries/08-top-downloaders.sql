-- name: Top downloaders by bytes
-- Who took the most data out: successful object reads (REST and website), by requester, with how
-- many distinct objects and IPs. Bytes are bytessent, the bytes actually sent to the client.
SELECT
  COALESCE(requester, '(anonymous)') AS requester,
  COUNT(*) AS downloads,
  COUNT(DISTINCT key) AS objects,
  COUNT(DISTINCT remoteip) AS ips,
  SUM(bytessent) AS bytes_sent
FROM s3_access_logs
WHERE operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT')
  AND httpstatus IN (200, 206)
GROUP BY COALESCE(requester, '(anonymous)')
ORDER BY bytes_sent DESC
LIMIT 10;
