-- name: IPs by traffic
-- The seed's query, corrected. It summed bytessent as "uploadTotal" and objectsize as
-- "downloadTotal". In S3's log format "Bytes Sent" is the number of response bytes sent to the
-- client, i.e. downloaded; "Object Size" is the total size of the object concerned, which a HEAD,
-- a 304 or a ranged GET never transfers. Uploads are measured by the object size of the requests
-- that carry a body to S3: PUT object and multipart part uploads.
-- param: bucket = null  only this bucket
-- param: since = null  only requests at or after this time (ISO-8601 date or time, UTC unless it names an offset)
-- param: until = null  only requests before this time (ISO-8601)
SELECT
  remoteip,
  SUM(COALESCE(bytessent, 0)) AS downloaded_bytes,
  SUM(CASE WHEN operation IN ('REST.PUT.OBJECT', 'REST.PUT.PART') THEN COALESCE(objectsize, 0) ELSE 0 END) AS uploaded_bytes,
  SUM(COALESCE(bytessent, 0))
    + SUM(CASE WHEN operation IN ('REST.PUT.OBJECT', 'REST.PUT.PART') THEN COALESCE(objectsize, 0) ELSE 0 END) AS total_bytes
FROM s3_access_logs
WHERE (:bucket IS NULL OR bucket_name = :bucket)
  AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
  AND (:until IS NULL OR requestdatetime < TO_TIMESTAMP_TZ(:until))
GROUP BY remoteip
ORDER BY total_bytes DESC, remoteip
LIMIT 10;
