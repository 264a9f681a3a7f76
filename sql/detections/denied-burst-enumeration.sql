-- name: denied-burst-enumeration
-- title: Access-denied burst or key enumeration from one source
-- severity: medium
-- technique: T1619 Cloud Storage Object Discovery
-- finds: A source (principal, or anonymous, and IP) whose requests to a bucket in the window got
--   at least min_errors 403/404 answers, over at least min_distinct_keys different keys, with
--   errors making at least min_error_ratio of its requests: guessing keys, probing permissions.
--   A job retrying one missing key fails often but on one key, and stays silent.
-- param: min_errors = '30'  403/404 answers below which nothing is reported
-- param: min_distinct_keys = '10'  different keys the failures must cover
-- param: min_error_ratio = '0.5'  share of the source's requests that failed
-- false positives: a misconfigured client after a permission change (many keys, all denied); a
--   crawler on a website bucket following dead links.
-- triage: the error codes and keys (evidence), whether any request of the source succeeded, the
--   user agent.
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :min_errors::NUMBER AS min_errors,
         :min_distinct_keys::NUMBER AS min_distinct_keys, :min_error_ratio::FLOAT AS min_error_ratio
),
src AS (
  SELECT e.requester, e.remoteip, e.bucket_name, MIN(e.requestdatetime) AS first_seen, MAX(e.requestdatetime) AS last_seen,
         COUNT(*) AS requests,
         COUNT_IF(e.httpstatus IN (403, 404)) AS errors,
         COUNT_IF(e.httpstatus = 403) AS denied,
         COUNT(DISTINCT IFF(e.httpstatus IN (403, 404), COALESCE(e.key_decoded, '(bucket)'), NULL)) AS error_keys,
         LISTAGG(DISTINCT IFF(e.httpstatus IN (403, 404), e.errorcode, NULL), ', ') WITHIN GROUP (ORDER BY IFF(e.httpstatus IN (403, 404), e.errorcode, NULL)) AS codes,
         LISTAGG(DISTINCT IFF(e.httpstatus IN (403, 404), e.key_decoded, NULL), ', ') WITHIN GROUP (ORDER BY IFF(e.httpstatus IN (403, 404), e.key_decoded, NULL)) AS keys,
         SUM(e.bytes_out) AS bytes
  FROM s3_access_logs_classified e, p
  WHERE e.requestdatetime >= p.since AND e.requestdatetime < p.until AND e.remoteip IS NOT NULL
  GROUP BY e.requester, e.remoteip, e.bucket_name
)
SELECT s.requester AS principal, s.remoteip AS source_ip, s.bucket_name AS bucket, s.first_seen, s.last_seen,
       s.errors AS requests, s.bytes AS bytes_out,
       'errors ' || s.errors || ' of ' || s.requests || ' requests (' || s.denied || ' denied); distinct keys ' || s.error_keys
         || '; codes ' || COALESCE(s.codes, '-') || '; keys ' || LEFT(COALESCE(s.keys, '-'), 200) AS evidence
FROM src s, p
WHERE s.errors >= p.min_errors
  AND s.error_keys >= p.min_distinct_keys
  AND s.errors >= p.min_error_ratio * s.requests
ORDER BY s.errors DESC;
