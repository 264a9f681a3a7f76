-- Parity check: does the fallback UDTF (parse_s3_access_logs, sql/fallback/02-udtf.sql) give the
-- same typed rows as the Lambda's TypeScript parser, on the customer's own data?
--
-- Input: raw lines in s3_access_logs_staging of objects the Lambda typed (ledger mode 'parsed').
-- To have such lines while the Lambda runs, let the fallback pipe (snowpipe/03-pipe.sql) stage
-- recent objects with ALTER PIPE ... REFRESH, with NO S3 notification pointing at the pipe: S3
-- refuses a second ObjectCreated rule on the same prefix as the stack's, and REFRESH needs none.
-- Keep the task suspended; it would not load them anyway (the ledger says the Lambda typed them):
--   ALTER PIPE s3_access_logs_pipe SET PIPE_EXECUTION_PAUSED = FALSE;
--   -- paused for more than 14 days (the usual case): it is stale, and only this resumes it:
--   SELECT SYSTEM$PIPE_FORCE_RESUME('s3_access_logs_pipe', 'STALENESS_CHECK_OVERRIDE');
--   ALTER PIPE s3_access_logs_pipe REFRESH PREFIX = '2026-11-20';   -- keys of one day, path relative to the stage (last 7 days only)
--   ... wait until SYSTEM$PIPE_STATUS('s3_access_logs_pipe') shows pendingFileCount 0, then:
--   ALTER PIPE s3_access_logs_pipe SET PIPE_EXECUTION_PAUSED = TRUE;
-- (sql/fallback/README.md, "Parity".) Locally, `s3-access-logs parity --local` runs the same
-- comparison against the embedded stack.
--
-- Output: one row per metric (metric, value):
--   staged_lines             distinct (logbucket, logkey, logline) in staging
--   not_compared_lines       staged lines of objects not typed by the Lambda (raw / task / none)
--   compared_lines           staged lines of objects the Lambda typed
--   udtf_rejected            compared lines the UDTF rejects
--   matching                 the UDTF row equals the typed row, all 28 columns
--   differing                a typed row exists and at least one column differs
--   missing_typed            the UDTF parses the line; the Lambda wrote neither row nor reject
--   rejected_by_lambda_only  the UDTF parses it; the Lambda rejected it
--   rejected_by_udtf_only    the Lambda typed it; the UDTF rejects it
--   rejected_by_both         both reject it
--   missing_staged           typed rows of compared objects with no staged line (Snowpipe missed it)
--   differ_<column>          lines where that column differs (typed rows only)
-- Agreement = matching / (matching + differing). The second statement lists differing lines.
-- Narrow the window in `staged` (e.g. WHERE loadedat > DATEADD(day, -1, CURRENT_TIMESTAMP()))
-- on a large staging table.

WITH staged AS (
  SELECT s.logbucket, s.logkey, s.logline, ANY_VALUE(s.raw) AS raw
  FROM s3_access_logs_staging s
  GROUP BY s.logbucket, s.logkey, s.logline
),
typed_objects AS (
  SELECT logbucket, logkey FROM s3_access_logs_loads WHERE mode = 'parsed'
),
compared AS (
  SELECT s.* FROM staged s JOIN typed_objects o ON o.logbucket = s.logbucket AND o.logkey = s.logkey
),
udtf AS (
  SELECT c.logbucket, c.logkey, c.logline, p.*
  FROM compared c, TABLE(parse_s3_access_logs(c.raw)) p
),
metrics AS (
  SELECT
    (SELECT COUNT(*) FROM staged) AS staged_lines,
    (SELECT COUNT(*) FROM staged) - (SELECT COUNT(*) FROM compared) AS not_compared_lines,
    (SELECT COUNT(*) FROM compared) AS compared_lines,
    COUNT_IF(u.reject_reason IS NOT NULL) AS udtf_rejected,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND EQUAL_NULL(u.bucketowner, t.bucketowner)
      AND EQUAL_NULL(u.bucket_name, t.bucket_name)
      AND EQUAL_NULL(TO_TIMESTAMP_TZ(LEFT(u.requestdatetime, 19) || ' +0000', 'YYYY-MM-DD"T"HH24:MI:SS TZHTZM'), t.requestdatetime)
      AND EQUAL_NULL(u.remoteip, t.remoteip)
      AND EQUAL_NULL(u.requester, t.requester)
      AND EQUAL_NULL(u.requestid, t.requestid)
      AND EQUAL_NULL(u.operation, t.operation)
      AND EQUAL_NULL(u.key, t.key)
      AND EQUAL_NULL(u.request_uri, t.request_uri)
      AND EQUAL_NULL(u.httpstatus, t.httpstatus)
      AND EQUAL_NULL(u.errorcode, t.errorcode)
      AND EQUAL_NULL(u.bytessent, t.bytessent)
      AND EQUAL_NULL(u.objectsize, t.objectsize)
      AND EQUAL_NULL(u.totaltime, t.totaltime)
      AND EQUAL_NULL(u.turnaroundtime, t.turnaroundtime)
      AND EQUAL_NULL(u.referrer, t.referrer)
      AND EQUAL_NULL(u.useragent, t.useragent)
      AND EQUAL_NULL(u.versionid, t.versionid)
      AND EQUAL_NULL(u.hostid, t.hostid)
      AND EQUAL_NULL(u.sigv, t.sigv)
      AND EQUAL_NULL(u.ciphersuite, t.ciphersuite)
      AND EQUAL_NULL(u.authtype, t.authtype)
      AND EQUAL_NULL(u.endpoint, t.endpoint)
      AND EQUAL_NULL(u.tlsversion, t.tlsversion)
      AND EQUAL_NULL(u.accesspointarn, t.accesspointarn)
      AND EQUAL_NULL(u.aclrequired, t.aclrequired)
      AND EQUAL_NULL(u.sourceregion, t.sourceregion)
      AND EQUAL_NULL(u.extrafields, t.extrafields)) AS matching,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL) - matching AS differing,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NULL AND r.logkey IS NULL) AS missing_typed,
    COUNT_IF(u.reject_reason IS NULL AND r.logkey IS NOT NULL) AS rejected_by_lambda_only,
    COUNT_IF(u.reject_reason IS NOT NULL AND t.logkey IS NOT NULL) AS rejected_by_udtf_only,
    COUNT_IF(u.reject_reason IS NOT NULL AND r.logkey IS NOT NULL) AS rejected_by_both,
    (SELECT COUNT(*) FROM s3_access_logs t2
       JOIN (SELECT DISTINCT logbucket, logkey FROM compared) o ON o.logbucket = t2.logbucket AND o.logkey = t2.logkey
       WHERE NOT EXISTS (SELECT 1 FROM compared c2 WHERE c2.logbucket = t2.logbucket AND c2.logkey = t2.logkey AND c2.logline = t2.logline)
    ) AS missing_staged,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.bucketowner, t.bucketowner)) AS differ_bucketowner,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.bucket_name, t.bucket_name)) AS differ_bucket_name,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(TO_TIMESTAMP_TZ(LEFT(u.requestdatetime, 19) || ' +0000', 'YYYY-MM-DD"T"HH24:MI:SS TZHTZM'), t.requestdatetime)) AS differ_requestdatetime,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.remoteip, t.remoteip)) AS differ_remoteip,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.requester, t.requester)) AS differ_requester,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.requestid, t.requestid)) AS differ_requestid,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.operation, t.operation)) AS differ_operation,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.key, t.key)) AS differ_key,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.request_uri, t.request_uri)) AS differ_request_uri,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.httpstatus, t.httpstatus)) AS differ_httpstatus,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.errorcode, t.errorcode)) AS differ_errorcode,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.bytessent, t.bytessent)) AS differ_bytessent,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.objectsize, t.objectsize)) AS differ_objectsize,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.totaltime, t.totaltime)) AS differ_totaltime,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.turnaroundtime, t.turnaroundtime)) AS differ_turnaroundtime,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.referrer, t.referrer)) AS differ_referrer,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.useragent, t.useragent)) AS differ_useragent,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.versionid, t.versionid)) AS differ_versionid,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.hostid, t.hostid)) AS differ_hostid,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.sigv, t.sigv)) AS differ_sigv,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.ciphersuite, t.ciphersuite)) AS differ_ciphersuite,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.authtype, t.authtype)) AS differ_authtype,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.endpoint, t.endpoint)) AS differ_endpoint,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.tlsversion, t.tlsversion)) AS differ_tlsversion,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.accesspointarn, t.accesspointarn)) AS differ_accesspointarn,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.aclrequired, t.aclrequired)) AS differ_aclrequired,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.sourceregion, t.sourceregion)) AS differ_sourceregion,
    COUNT_IF(u.reject_reason IS NULL AND t.logkey IS NOT NULL AND NOT EQUAL_NULL(u.extrafields, t.extrafields)) AS differ_extrafields
  FROM udtf u
  LEFT JOIN s3_access_logs t ON t.logbucket = u.logbucket AND t.logkey = u.logkey AND t.logline = u.logline
  LEFT JOIN s3_access_logs_rejects r ON r.logbucket = u.logbucket AND r.logkey = u.logkey AND r.logline = u.logline
)
SELECT metric, value
FROM metrics
UNPIVOT (value FOR metric IN (staged_lines, not_compared_lines, compared_lines, udtf_rejected, matching, differing, missing_typed, rejected_by_lambda_only, rejected_by_udtf_only, rejected_by_both, missing_staged, differ_bucketowner, differ_bucket_name, differ_requestdatetime, differ_remoteip, differ_requester, differ_requestid, differ_operation, differ_key, differ_request_uri, differ_httpstatus, differ_errorcode, differ_bytessent, differ_objectsize, differ_totaltime, differ_turnaroundtime, differ_referrer, differ_useragent, differ_versionid, differ_hostid, differ_sigv, differ_ciphersuite, differ_authtype, differ_endpoint, differ_tlsversion, differ_accesspointarn, differ_aclrequired, differ_sourceregion, differ_extrafields));

-- The differing and one-sided lines themselves (first 100), to explain each difference.
WITH compared AS (
  SELECT s.logbucket, s.logkey, s.logline, ANY_VALUE(s.raw) AS raw
  FROM s3_access_logs_staging s
  JOIN s3_access_logs_loads l ON l.logbucket = s.logbucket AND l.logkey = s.logkey AND l.mode = 'parsed'
  GROUP BY s.logbucket, s.logkey, s.logline
)
SELECT c.logbucket, c.logkey, c.logline, c.raw, p.reject_reason AS udtf_reject, r.reason AS lambda_reject,
       OBJECT_CONSTRUCT(p.*) AS udtf_row
FROM compared c
CROSS JOIN TABLE(parse_s3_access_logs(c.raw)) p
LEFT JOIN s3_access_logs t ON t.logbucket = c.logbucket AND t.logkey = c.logkey AND t.logline = c.logline
LEFT JOIN s3_access_logs_rejects r ON r.logbucket = c.logbucket AND r.logkey = c.logkey AND r.logline = c.logline
WHERE (p.reject_reason IS NULL) <> (t.logkey IS NOT NULL)
   OR (t.logkey IS NOT NULL AND NOT (
       EQUAL_NULL(p.bucketowner, t.bucketowner)
       AND EQUAL_NULL(p.bucket_name, t.bucket_name)
       AND EQUAL_NULL(TO_TIMESTAMP_TZ(LEFT(p.requestdatetime, 19) || ' +0000', 'YYYY-MM-DD"T"HH24:MI:SS TZHTZM'), t.requestdatetime)
       AND EQUAL_NULL(p.remoteip, t.remoteip)
       AND EQUAL_NULL(p.requester, t.requester)
       AND EQUAL_NULL(p.requestid, t.requestid)
       AND EQUAL_NULL(p.operation, t.operation)
       AND EQUAL_NULL(p.key, t.key)
       AND EQUAL_NULL(p.request_uri, t.request_uri)
       AND EQUAL_NULL(p.httpstatus, t.httpstatus)
       AND EQUAL_NULL(p.errorcode, t.errorcode)
       AND EQUAL_NULL(p.bytessent, t.bytessent)
       AND EQUAL_NULL(p.objectsize, t.objectsize)
       AND EQUAL_NULL(p.totaltime, t.totaltime)
       AND EQUAL_NULL(p.turnaroundtime, t.turnaroundtime)
       AND EQUAL_NULL(p.referrer, t.referrer)
       AND EQUAL_NULL(p.useragent, t.useragent)
       AND EQUAL_NULL(p.versionid, t.versionid)
       AND EQUAL_NULL(p.hostid, t.hostid)
       AND EQUAL_NULL(p.sigv, t.sigv)
       AND EQUAL_NULL(p.ciphersuite, t.ciphersuite)
       AND EQUAL_NULL(p.authtype, t.authtype)
       AND EQUAL_NULL(p.endpoint, t.endpoint)
       AND EQUAL_NULL(p.tlsversion, t.tlsversion)
       AND EQUAL_NULL(p.accesspointarn, t.accesspointarn)
       AND EQUAL_NULL(p.aclrequired, t.aclrequired)
       AND EQUAL_NULL(p.sourceregion, t.sourceregion)
       AND EQUAL_NULL(p.extrafields, t.extrafields)))
LIMIT 100;
