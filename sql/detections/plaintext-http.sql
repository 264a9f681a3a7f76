-- name: plaintext-http
-- title: Requests without TLS
-- severity: low
-- technique: T1040 Network Sniffing (the exposure it allows)
-- finds: Requests to a bucket's REST endpoint that did not use TLS (no cipher suite, no TLS
--   version), grouped by principal, IP and bucket. Website endpoints (s3-website), which only
--   speak HTTP, and S3's own actions (lifecycle, no network request) are left out. A bucket
--   policy with aws:SecureTransport = false denies these; this shows who still tries.
-- param: min_requests = '1'  plain-HTTP requests below which nothing is reported
-- param: allowed_principal_regex = ''  principals never reported (full match)
-- false positives: health checks of a legacy appliance; requests that a policy already denies
--   (they show with status 403 in the evidence).
-- triage: status codes (were they served?), the client (evidence), whether it signed with SigV2.
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :min_requests::NUMBER AS min_requests, :allowed_principal_regex::VARCHAR AS allowed_principal_regex
)
SELECT e.requester AS principal, e.remoteip AS source_ip, e.bucket_name AS bucket, MIN(e.requestdatetime) AS first_seen,
       MAX(e.requestdatetime) AS last_seen, COUNT(*) AS requests, SUM(e.bytes_out) AS bytes_out,
       'statuses ' || LISTAGG(DISTINCT e.httpstatus, ', ') WITHIN GROUP (ORDER BY e.httpstatus)
         || '; endpoint ' || COALESCE(MAX(e.endpoint), '-') || '; client ' || COALESCE(MAX(e.client_family), '-')
         || '; signature ' || COALESCE(LISTAGG(DISTINCT e.sigv, ', ') WITHIN GROUP (ORDER BY e.sigv), '-') AS evidence
FROM s3_access_logs_classified e, p
WHERE NOT e.is_tls
  AND e.remoteip IS NOT NULL
  AND e.requester_type <> 'aws_service'
  AND COALESCE(e.endpoint, '') NOT LIKE '%s3-website%'
  AND e.operation NOT LIKE 'WEBSITE.%'
  AND NOT REGEXP_LIKE(COALESCE(e.requester, '(anonymous)'), p.allowed_principal_regex)
  AND e.requestdatetime >= p.since AND e.requestdatetime < p.until
GROUP BY e.requester, e.remoteip, e.bucket_name, p.min_requests
HAVING COUNT(*) >= p.min_requests
ORDER BY requests DESC;
