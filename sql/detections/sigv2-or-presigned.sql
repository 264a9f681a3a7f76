-- name: sigv2-or-presigned
-- title: Signature Version 2 or presigned-URL requests where policy forbids them
-- severity: low
-- technique: T1550 Use Alternate Authentication Material (presigned URLs)
-- finds: Requests signed with Signature Version 2 (deprecated; a policy can deny it with
--   s3:signatureversion) or authenticated by a query string (a presigned URL, usable by anyone
--   holding the link until it expires; a policy can deny it with s3:authType), on buckets matching
--   bucket_regex. The requester is the principal that signed, the IP is whoever used the link.
--   Query strings that are not signatures (a website's ?v=3) are not presigned URLs.
-- param: bucket_regex = '.*'  buckets where these are forbidden (full match)
-- param: allowed_principal_regex = ''  principals allowed to sign such requests (full match)
-- false positives: sharing features that hand out presigned links by design (allow-list their
--   role, or narrow bucket_regex); old SDKs still on SigV2.
-- triage: signature version and auth type (evidence), the keys, whether the IP belongs to you.
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :bucket_regex::VARCHAR AS bucket_regex, :allowed_principal_regex::VARCHAR AS allowed_principal_regex
)
SELECT e.requester AS principal, e.remoteip AS source_ip, e.bucket_name AS bucket, MIN(e.requestdatetime) AS first_seen,
       MAX(e.requestdatetime) AS last_seen, COUNT(*) AS requests, SUM(e.bytes_out) AS bytes_out,
       'signature ' || COALESCE(LISTAGG(DISTINCT e.sigv, ', ') WITHIN GROUP (ORDER BY e.sigv), '-')
         || '; auth ' || COALESCE(LISTAGG(DISTINCT e.authtype, ', ') WITHIN GROUP (ORDER BY e.authtype), '-')
         || '; client ' || COALESCE(MAX(e.client_family), '-')
         || '; keys ' || LEFT(COALESCE(LISTAGG(DISTINCT e.key_decoded, ', ') WITHIN GROUP (ORDER BY e.key_decoded), '-'), 200) AS evidence
FROM s3_access_logs_classified e, p
WHERE (e.sigv = 'SigV2' OR e.authtype = 'QueryString')
  AND REGEXP_LIKE(e.bucket_name, p.bucket_regex)
  AND NOT REGEXP_LIKE(COALESCE(e.requester, '(anonymous)'), p.allowed_principal_regex)
  AND e.requestdatetime >= p.since AND e.requestdatetime < p.until
GROUP BY e.requester, e.remoteip, e.bucket_name
ORDER BY first_seen;
