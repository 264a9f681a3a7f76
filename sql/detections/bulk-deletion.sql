-- name: bulk-deletion
-- title: Bulk or unusual deletion by a principal
-- severity: high
-- technique: T1485 Data Destruction
-- finds: A principal that deleted at least min_deletes objects (single deletes and each key of a
--   multi-object delete) from one source IP in the window, and more than multiplier times its own
--   busiest day of the baseline. Deletions by S3 itself (lifecycle expiration, requester AmazonS3)
--   are not a principal's and are left out; lifecycle-changed watches who sets those rules.
-- param: baseline_days = '7'  days before the window that form the baseline
-- param: min_deletes = '10'  deleted keys below which nothing is reported
-- param: multiplier = '3'  how many busiest-baseline-days the window must exceed
-- param: allowed_principal_regex = ''  principals never reported (full match), e.g. a cleanup role
-- false positives: a clean-up or retention job run for the first time; a migration that removes
--   the source; a principal with no baseline (only min_deletes applies).
-- triage: which prefixes (evidence), were the keys read first (mass-download), versioning state.
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :baseline_days::NUMBER AS baseline_days,
         :min_deletes::NUMBER AS min_deletes, :multiplier::FLOAT AS multiplier, :allowed_principal_regex::VARCHAR AS allowed_principal_regex
),
deletes AS (
  SELECT COALESCE(e.requester, '(anonymous)') AS who, e.requester, e.remoteip, e.bucket_name, e.requestdatetime,
         e.key_decoded, e.operation, e.requestdatetime >= p.since AS in_window,
         FLOOR(DATEDIFF('second', p.since, e.requestdatetime) / 86400) AS day_index
  FROM s3_access_logs_classified e, p
  WHERE e.operation_class = 'delete' AND e.requester_type <> 'aws_service'
    AND e.operation <> 'REST.POST.MULTI_OBJECT_DELETE' -- its keys are logged one by one as BATCH.DELETE.OBJECT
    AND COALESCE(e.httpstatus, 0) < 400
    AND e.requestdatetime >= DATEADD('day', -p.baseline_days, p.since) AND e.requestdatetime < p.until
),
baseline AS (
  SELECT who, MAX(n) AS peak_day_deletes
  FROM (SELECT who, day_index, COUNT(*) AS n FROM deletes WHERE NOT in_window GROUP BY who, day_index) d
  GROUP BY who
),
win AS (
  SELECT who, requester, remoteip, bucket_name, MIN(requestdatetime) AS first_seen, MAX(requestdatetime) AS last_seen,
         COUNT(*) AS requests, COUNT(DISTINCT key_decoded) AS objects,
         LISTAGG(DISTINCT operation, ', ') WITHIN GROUP (ORDER BY operation) AS operations,
         LISTAGG(DISTINCT key_decoded, ', ') WITHIN GROUP (ORDER BY key_decoded) AS keys
  FROM deletes
  WHERE in_window
  GROUP BY who, requester, remoteip, bucket_name
)
SELECT w.requester AS principal, w.remoteip AS source_ip, w.bucket_name AS bucket, w.first_seen, w.last_seen,
       w.requests, 0 AS bytes_out,
       'deleted keys ' || w.objects || ' (' || w.operations || '); baseline busiest day ' || COALESCE(b.peak_day_deletes, 0)
         || '; keys ' || LEFT(w.keys, 200) AS evidence
FROM win w
CROSS JOIN p
LEFT JOIN baseline b ON b.who = w.who
WHERE w.requests >= p.min_deletes
  AND w.requests > p.multiplier * COALESCE(b.peak_day_deletes, 0) * GREATEST(1, DATEDIFF('second', p.since, p.until) / 86400)
  AND NOT REGEXP_LIKE(w.who, p.allowed_principal_regex)
ORDER BY w.requests DESC;
