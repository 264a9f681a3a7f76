-- name: IPs by traffic
-- The seed's query, corrected. It summed bytessent as "uploadTotal" and objectsize as
-- "downloadTotal". In S3's log format "Bytes Sent" is the number of response bytes sent to the
-- client, i.e. downloaded; "Object Size" is the total size of the object concerned, which a HEAD,
-- a 304 or a ranged GET never transfers. Uploads are measured by the object size of the requests
-- that carry a body to S3: PUT object and multipart part uploads.
SELECT
  remoteip,
  SUM(COALESCE(bytessent, 0)) AS downloaded_bytes,
  SUM(CASE WHEN operation IN ('REST.PUT.OBJECT', 'REST.PUT.PART') THEN COALESCE(objectsize, 0) ELSE 0 END) AS uploaded_bytes,
  SUM(COALESCE(bytessent, 0))
    + SUM(CASE WHEN operation IN ('REST.PUT.OBJECT', 'REST.PUT.PART') THEN COALESCE(objectsize, 0) ELSE 0 END) AS total_bytes
FROM s3_access_logs
GROUP BY remoteip
ORDER BY total_bytes DESC, remoteip
LIMIT 10;
