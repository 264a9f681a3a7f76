-- name: mass-download
-- title: Mass download far above the principal's own baseline
-- severity: high
-- technique: T1530 Data from Cloud Storage
-- finds: A principal (for anonymous requests: an IP) that took more object data out of a bucket,
--   from one source IP, than min_bytes AND more than multiplier times its own busiest day of the
--   baseline (the baseline_days before the window), scaled to the window's length. A principal
--   with no baseline has a busiest day of 0, so only min_bytes applies.
-- param: baseline_days = '7'  days before the window that form the baseline
-- param: min_bytes = '1000000000'  bytes out (bytes_out) below which nothing is reported
-- param: multiplier = '5'  how many busiest-baseline-days the window must exceed
-- param: allowed_ip_regex = ''  source IPs never reported (full match), e.g. '10[.]0[.]40[.].*'
-- false positives: the first run of a new export or restore job; a principal whose history is
--   shorter than the data (only min_bytes applies); a move to a new tool that re-reads everything.
-- triage: is the IP the principal's usual one (see first-seen-ip-sensitive-read)? what prefixes
--   (evidence keys)? did the same principal delete or change permissions afterwards?
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :baseline_days::NUMBER AS baseline_days,
         :min_bytes::NUMBER AS min_bytes, :multiplier::FLOAT AS multiplier, :allowed_ip_regex::VARCHAR AS allowed_ip_regex
),
reads AS (
  SELECT COALESCE(e.requester, '(anonymous) ' || e.remoteip) AS who, e.requester, e.remoteip,
         e.bucket_name, e.requestdatetime, e.bytes_out, e.key_decoded,
         e.requestdatetime >= p.since AS in_window,
         FLOOR(DATEDIFF('second', p.since, e.requestdatetime) / 86400) AS day_index
  FROM s3_access_logs_classified e, p
  WHERE e.bytes_out > 0
    AND e.requestdatetime >= DATEADD('day', -p.baseline_days, p.since)
    AND e.requestdatetime < p.until
),
baseline AS (
  SELECT who, MAX(day_bytes) AS peak_day_bytes
  FROM (SELECT who, day_index, SUM(bytes_out) AS day_bytes FROM reads WHERE NOT in_window GROUP BY who, day_index) d
  GROUP BY who
),
win AS (
  SELECT who, requester, remoteip, bucket_name, MIN(requestdatetime) AS first_seen, MAX(requestdatetime) AS last_seen,
         COUNT(*) AS requests, SUM(bytes_out) AS bytes, COUNT(DISTINCT key_decoded) AS objects,
         LISTAGG(DISTINCT key_decoded, ', ') WITHIN GROUP (ORDER BY key_decoded) AS keys
  FROM reads
  WHERE in_window
  GROUP BY who, requester, remoteip, bucket_name
)
SELECT w.requester AS principal, w.remoteip AS source_ip, w.bucket_name AS bucket, w.first_seen, w.last_seen,
       w.requests, w.bytes AS bytes_out,
       'objects ' || w.objects || '; baseline busiest day ' || COALESCE(b.peak_day_bytes, 0) || ' bytes; keys ' || LEFT(w.keys, 200) AS evidence
FROM win w
CROSS JOIN p
LEFT JOIN baseline b ON b.who = w.who
WHERE w.bytes >= p.min_bytes
  AND w.bytes > p.multiplier * COALESCE(b.peak_day_bytes, 0) * GREATEST(1, DATEDIFF('second', p.since, p.until) / 86400)
  AND NOT REGEXP_LIKE(COALESCE(w.remoteip, ''), p.allowed_ip_regex)
ORDER BY w.bytes DESC;
