-- name: logging-changed
-- title: Server access logging changed or disabled
-- severity: high
-- technique: T1562.008 Impair Defenses: Disable or Modify Cloud Logs
-- finds: Successful changes of a bucket's server access logging configuration (PUT or DELETE of
--   ?logging). Disabling logging is a PUT with an empty status, indistinguishable in the log from
--   re-targeting it, so every change is reported; logs-stopped shows whether the logs then stopped.
-- param: allowed_principal_regex = ''  principals never reported (full match), e.g. your infrastructure-as-code role
-- false positives: a planned move of the log target bucket or prefix; a new bucket's first setup.
-- triage: the request (evidence) and the principal's other actions around it; the bucket's
--   current configuration (the access log does not record the request body).
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :allowed_principal_regex::VARCHAR AS allowed_principal_regex
)
SELECT e.requester AS principal, e.remoteip AS source_ip, e.bucket_name AS bucket,
       MIN(e.requestdatetime) AS first_seen, MAX(e.requestdatetime) AS last_seen, COUNT(*) AS requests, 0 AS bytes_out,
       'operations ' || LISTAGG(DISTINCT e.operation, ', ') WITHIN GROUP (ORDER BY e.operation)
         || '; requests ' || LEFT(LISTAGG(DISTINCT e.request_uri, ', ') WITHIN GROUP (ORDER BY e.request_uri), 200)
         || '; client ' || COALESCE(LISTAGG(DISTINCT e.client_family, ', ') WITHIN GROUP (ORDER BY e.client_family), '-') AS evidence
FROM s3_access_logs_classified e, p
WHERE e.operation_class = 'configuration_change' AND e.operation LIKE '%LOGGING%'
  AND COALESCE(e.httpstatus, 0) < 400
  AND NOT REGEXP_LIKE(COALESCE(e.requester, '(anonymous)'), p.allowed_principal_regex)
  AND e.requestdatetime >= p.since AND e.requestdatetime < p.until
GROUP BY e.requester, e.remoteip, e.bucket_name
ORDER BY first_seen;
