-- name: cross-account-read
-- title: Reads by another AWS account that is neither allow-listed nor known
-- severity: high
-- technique: T1530 Data from Cloud Storage
-- finds: Successful reads and listings by principals of an AWS account other than the bucket's
--   (cross_account in s3_access_logs_enriched; the bucket's account is inferred, see
--   s3_bucket_accounts), when the account matches no allowed_accounts_regex and did not read the
--   same bucket in the baseline_days before the window. Anonymous requests and CloudFront origin
--   access identities carry no account and are left out.
-- param: baseline_days = '7'  days before the window in which an account counts as known
-- param: allowed_accounts_regex = ''  12-digit account IDs allowed to read (full match), e.g. '(444455556666|555566667777)'
-- false positives: a new partner or a new account of your own organisation; a bucket whose
--   owner account was inferred wrongly (replace s3_bucket_accounts by a table).
-- triage: the account (evidence) against your organisation's account list; keys and bytes.
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :baseline_days::NUMBER AS baseline_days, :allowed_accounts_regex::VARCHAR AS allowed_accounts_regex
),
reads AS (
  SELECT e.requester, e.requester_account, e.bucket_account, e.remoteip, e.bucket_name, e.requestdatetime, e.bytes_out, e.key_decoded,
         e.requestdatetime >= p.since AS in_window
  FROM s3_access_logs_enriched e, p
  WHERE e.cross_account AND e.operation_class IN ('read', 'list') AND e.httpstatus IN (200, 206, 304)
    AND e.requestdatetime >= DATEADD('day', -p.baseline_days, p.since) AND e.requestdatetime < p.until
),
known AS (
  SELECT requester_account, bucket_name FROM reads WHERE NOT in_window GROUP BY requester_account, bucket_name
)
SELECT r.requester AS principal, r.remoteip AS source_ip, r.bucket_name AS bucket, MIN(r.requestdatetime) AS first_seen,
       MAX(r.requestdatetime) AS last_seen, COUNT(*) AS requests, SUM(r.bytes_out) AS bytes_out,
       'account ' || r.requester_account || ' reading a bucket of account ' || MAX(r.bucket_account)
         || '; keys ' || LEFT(LISTAGG(DISTINCT r.key_decoded, ', ') WITHIN GROUP (ORDER BY r.key_decoded), 200) AS evidence
FROM reads r
CROSS JOIN p
LEFT JOIN known k ON k.requester_account = r.requester_account AND k.bucket_name = r.bucket_name
WHERE r.in_window AND k.bucket_name IS NULL
  AND NOT REGEXP_LIKE(r.requester_account, p.allowed_accounts_regex)
GROUP BY r.requester, r.requester_account, r.remoteip, r.bucket_name
ORDER BY first_seen;
