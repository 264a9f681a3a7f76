-- name: first-seen-ip-sensitive-read
-- title: Sensitive keys read from an IP the principal never used before
-- severity: high
-- technique: T1530 Data from Cloud Storage (with T1078 Valid Accounts)
-- finds: Successful reads of keys matching sensitive_key_regex by a principal, from a source IP
--   that principal did not use (for any request) in the baseline_days before the window.
--   Anonymous requests have no principal and are left to anonymous-read-non-public.
-- param: baseline_days = '7'  days before the window in which an IP counts as known
-- param: sensitive_key_regex = '(.*/)?(finance|hr|legal|secrets?|private)/.*'  decoded keys that are sensitive (full match: a folder of that name at any depth)
-- false positives: travel, a new office or VPN egress, a re-created NAT gateway; a principal with
--   no history in the baseline (every IP is new) such as a new employee or a new role session.
-- triage: the principal's known IPs (evidence), the user agent, what else the IP did.
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :baseline_days::NUMBER AS baseline_days, :sensitive_key_regex::VARCHAR AS sensitive_key_regex
),
known AS (
  SELECT e.requester, e.remoteip
  FROM s3_access_logs_classified e, p
  WHERE e.requester IS NOT NULL AND e.remoteip IS NOT NULL
    AND e.requestdatetime >= DATEADD('day', -p.baseline_days, p.since) AND e.requestdatetime < p.since
  GROUP BY e.requester, e.remoteip
),
known_list AS (
  SELECT requester, LISTAGG(remoteip, ', ') WITHIN GROUP (ORDER BY remoteip) AS ips FROM known GROUP BY requester
),
win AS (
  SELECT e.requester, e.remoteip, e.bucket_name, MIN(e.requestdatetime) AS first_seen, MAX(e.requestdatetime) AS last_seen,
         COUNT(*) AS requests, SUM(e.bytes_out) AS bytes, COUNT(DISTINCT e.key_decoded) AS objects,
         LISTAGG(DISTINCT e.key_decoded, ', ') WITHIN GROUP (ORDER BY e.key_decoded) AS keys,
         LISTAGG(DISTINCT e.client_family, ', ') WITHIN GROUP (ORDER BY e.client_family) AS clients
  FROM s3_access_logs_classified e, p
  WHERE e.requester IS NOT NULL
    AND e.operation_class = 'read' AND e.httpstatus IN (200, 206)
    AND REGEXP_LIKE(e.key_decoded, p.sensitive_key_regex)
    AND e.requestdatetime >= p.since AND e.requestdatetime < p.until
  GROUP BY e.requester, e.remoteip, e.bucket_name
)
SELECT w.requester AS principal, w.remoteip AS source_ip, w.bucket_name AS bucket, w.first_seen, w.last_seen,
       w.requests, w.bytes AS bytes_out,
       'objects ' || w.objects || '; client ' || COALESCE(w.clients, '-') || '; known IPs ' || COALESCE(kl.ips, 'none')
         || '; keys ' || LEFT(w.keys, 200) AS evidence
FROM win w
LEFT JOIN known k ON k.requester = w.requester AND k.remoteip = w.remoteip
LEFT JOIN known_list kl ON kl.requester = w.requester
WHERE k.requester IS NULL
ORDER BY w.bytes DESC;
