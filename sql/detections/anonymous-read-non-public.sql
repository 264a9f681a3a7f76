-- name: anonymous-read-non-public
-- title: Anonymous requests succeed where data was not public before
-- severity: high
-- technique: Exposure (no direct ATT&CK technique; T1530 Data from Cloud Storage for the reader)
-- finds: Successful anonymous reads or listings of a bucket's top-level prefix (the key up to the
--   first '/', or the bucket itself for listings) that served no successful anonymous request in
--   the baseline_days before the window. A website or public dataset that is public by design
--   served anonymous requests every day and stays silent.
-- param: baseline_days = '7'  days before the window in which a prefix counts as public
-- param: public_regex = ''  bucket/key paths that are public by design (full match on 'bucket/key'), e.g. 'my-site/.*'
-- false positives: a new public site or dataset on its first day; a public prefix nobody fetched
--   during the baseline.
-- triage: permission-changed on the same bucket just before; what was read (evidence keys), by
--   which IPs; the bucket policy and public access block now.
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :baseline_days::NUMBER AS baseline_days, :public_regex::VARCHAR AS public_regex
),
anon AS (
  SELECT e.remoteip, e.bucket_name, e.requestdatetime, e.bytes_out, e.key_decoded, e.useragent,
         COALESCE(SPLIT_PART(e.key_decoded, '/', 1), '') AS top, e.requestdatetime >= p.since AS in_window
  FROM s3_access_logs_classified e, p
  WHERE e.is_anonymous AND e.operation_class IN ('read', 'list') AND e.httpstatus IN (200, 206, 304)
    AND e.requestdatetime >= DATEADD('day', -p.baseline_days, p.since) AND e.requestdatetime < p.until
),
public AS (
  SELECT bucket_name, top FROM anon WHERE NOT in_window GROUP BY bucket_name, top
)
SELECT NULL AS principal, a.remoteip AS source_ip, a.bucket_name AS bucket, MIN(a.requestdatetime) AS first_seen,
       MAX(a.requestdatetime) AS last_seen, COUNT(*) AS requests, SUM(a.bytes_out) AS bytes_out,
       'prefixes ' || LISTAGG(DISTINCT a.top, ', ') WITHIN GROUP (ORDER BY a.top)
         || '; user agent ' || LEFT(COALESCE(MAX(a.useragent), '-'), 80)
         || '; keys ' || LEFT(LISTAGG(DISTINCT a.key_decoded, ', ') WITHIN GROUP (ORDER BY a.key_decoded), 200) AS evidence
FROM anon a
CROSS JOIN p
LEFT JOIN public pub ON pub.bucket_name = a.bucket_name AND pub.top = a.top
WHERE a.in_window AND pub.bucket_name IS NULL
  AND NOT REGEXP_LIKE(a.bucket_name || '/' || COALESCE(a.key_decoded, ''), p.public_regex)
GROUP BY a.remoteip, a.bucket_name
ORDER BY first_seen;
