-- name: Top downloaders by bytes
-- Who took the most data out: successful object reads (REST and website), by requester, with how
-- many distinct objects and IPs. Bytes are bytessent, the bytes actually sent to the client.
-- param: prefix = null  only keys under this prefix (e.g. finance/payroll/)
-- param: bucket = null  only this bucket
-- param: since = null  only requests at or after this time (ISO-8601 date or time, UTC unless it names an offset)
-- param: until = null  only requests before this time (ISO-8601)
SELECT
  COALESCE(requester, '(anonymous)') AS requester,
  COUNT(*) AS downloads,
  COUNT(DISTINCT key) AS objects,
  COUNT(DISTINCT remoteip) AS ips,
  SUM(bytessent) AS bytes_sent
FROM s3_access_logs
WHERE operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT')
  AND httpstatus IN (200, 206)
  AND (:prefix IS NULL OR LEFT(key, LENGTH(:prefix)) = :prefix)
  AND (:bucket IS NULL OR bucket_name = :bucket)
  AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
  AND (:until IS NULL OR requestdatetime < TO_TIMESTAMP_TZ(:until))
GROUP BY COALESCE(requester, '(anonymous)')
ORDER BY bytes_sent DESC
LIMIT 10;
