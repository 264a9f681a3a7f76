-- The enriched view: every row of s3_access_logs (all its columns, unchanged) plus the fields the
-- detections in sql/detections/ and an analyst need. A view, not columns, so the typed table keeps
-- its Athena-compatible shape and rows loaded before this file existed are enriched too.
-- Reference: docs/detections.md ("The enriched view").
--
-- Regular expressions use [.] instead of \. so that they read the same in every SQL dialect, and
-- REGEXP_LIKE matches the whole string (Snowflake semantics).
--
-- s3_bucket_accounts infers each source bucket's owning AWS account: the account whose principals
-- made most of the bucket's writes, deletes and permission/configuration changes. Server access
-- logs name the owner only by canonical user ID, so this is the best the logs alone can say; if
-- you know your buckets' accounts, replace the view by a table with the same two columns.
--
-- Three views: s3_access_logs_classified (the table's columns plus everything that a row alone
-- determines), s3_bucket_accounts, and s3_access_logs_enriched = classified + the bucket's account
-- and cross_account. A view stores nothing; each query on s3_access_logs_enriched also aggregates
-- 30 days of writes for s3_bucket_accounts, so the detections that do not need cross_account read
-- s3_access_logs_classified and skip that scan.

CREATE OR REPLACE VIEW s3_access_logs_classified AS
SELECT
  l.*,
  CASE
    WHEN l.requester IS NULL THEN 'anonymous'
    WHEN l.requester = 'AmazonS3' OR l.requester LIKE 'svc:%' OR REGEXP_LIKE(l.requester, '[a-z0-9.-]+[.]amazonaws[.]com') THEN 'aws_service'
    WHEN l.requester LIKE '%CloudFront Origin Access Identity%' THEN 'cloudfront_oai'
    WHEN REGEXP_LIKE(l.requester, 'arn:aws[a-z-]*:iam::[0-9]{12}:root') THEN 'root'
    WHEN REGEXP_LIKE(l.requester, 'arn:aws[a-z-]*:iam::[0-9]{12}:user/.+') THEN 'iam_user'
    WHEN REGEXP_LIKE(l.requester, 'arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/.+') THEN 'assumed_role'
    ELSE 'other'
  END AS requester_type,
  CASE
    WHEN REGEXP_LIKE(l.requester, 'arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:.+') THEN SPLIT_PART(l.requester, ':', 5)
  END AS requester_account,
  CASE
    WHEN l.requester IS NULL THEN NULL
    WHEN REGEXP_LIKE(l.requester, 'arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:.+/.+')
      THEN SUBSTR(SPLIT_PART(l.requester, ':', 6), POSITION('/' IN SPLIT_PART(l.requester, ':', 6)) + 1)
    WHEN REGEXP_LIKE(l.requester, 'arn:aws[a-z-]*:iam::[0-9]{12}:root') THEN 'root'
    WHEN l.requester LIKE '%CloudFront Origin Access Identity %'
      THEN SUBSTR(l.requester, POSITION('CloudFront Origin Access Identity ' IN l.requester) + 34)
    ELSE l.requester
  END AS requester_name,
  (l.requester IS NULL) AS is_anonymous,
  CASE
    WHEN l.operation IS NULL THEN 'other'
    WHEN REGEXP_LIKE(l.operation, '(REST|SOAP)[.](PUT|POST|DELETE)[.](BUCKETPOLICY|POLICY|ACL|OBJECT_ACL|BUCKETACL|PUBLIC_ACCESS_BLOCK|PUBLICACCESSBLOCK|BUCKETPUBLICACCESSBLOCK|OWNERSHIP_CONTROLS|OWNERSHIPCONTROLS|BUCKETOWNERSHIPCONTROLS)')
      THEN 'permission_change'
    WHEN REGEXP_LIKE(l.operation, '(REST|BATCH|SOAP)[.]DELETE[.](OBJECT|BUCKET)')
      OR l.operation IN ('REST.POST.MULTI_OBJECT_DELETE', 'S3.EXPIRE.OBJECT', 'S3.CREATE.DELETEMARKER')
      THEN 'delete'
    WHEN REGEXP_LIKE(l.operation, '(REST|SOAP|WEBSITE)[.](GET|HEAD)[.]OBJECT')
      OR l.operation IN ('REST.COPY.OBJECT_GET', 'REST.GET.OBJECT_TORRENT', 'REST.POST.SELECT', 'REST.POST.SELECT_OBJECT_CONTENT')
      THEN 'read'
    WHEN l.operation IN ('REST.GET.BUCKET', 'REST.GET.BUCKETVERSIONS', 'REST.GET.UPLOADS', 'REST.GET.UPLOAD', 'REST.GET.LIST_TYPE2', 'SOAP.GET.BUCKET')
      THEN 'list'
    WHEN REGEXP_LIKE(l.operation, '(REST|SOAP)[.](PUT|POST|COPY)[.](OBJECT|PART|UPLOADS?|OBJECT_TAGGING|RESTORE|OBJECT_RETENTION|OBJECT_LEGAL_HOLD)')
      OR l.operation IN ('REST.DELETE.UPLOAD', 'REST.DELETE.OBJECT_TAGGING', 'WEBSITE.POST.OBJECT')
      THEN 'write'
    WHEN REGEXP_LIKE(l.operation, '(REST|SOAP)[.](PUT|POST|DELETE)[.].+') AND l.key IS NULL
      THEN 'configuration_change'
    ELSE 'other'
  END AS operation_class,
  -- Keys are logged URL-encoded. Snowflake has no URL-decoding function, so the escapes of the
  -- characters S3 encodes in practice are replaced; %25 last, so '%2520' becomes '%20', not ' '.
  -- Other escapes (non-ASCII UTF-8 bytes such as %C3%A9) are left as logged.
  REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(
    l.key,
    '%20', ' '), '%2F', '/'), '%2B', '+'), '%3D', '='), '%26', '&'), '%3A', ':'), '%2C', ','),
    '%40', '@'), '%24', '$'), '%3F', '?'), '%23', '#'), '%7E', '~'), '%21', '!'), '%25', '%') AS key_decoded,
  (l.httpstatus >= 400) AS is_error,
  (l.ciphersuite IS NOT NULL OR l.tlsversion IS NOT NULL) AS is_tls,
  CASE
    WHEN l.useragent IS NULL THEN NULL
    WHEN l.useragent ILIKE '%S3Console%' OR l.useragent ILIKE '%console.aws.amazon.com%' THEN 'console'
    WHEN l.useragent ILIKE 'aws-cli/%' THEN 'aws-cli'
    WHEN l.useragent ILIKE 'Boto3/%' OR l.useragent ILIKE 'Botocore/%' THEN 'sdk-python'
    WHEN l.useragent ILIKE 'aws-sdk-%' THEN 'sdk-' || LOWER(SPLIT_PART(SPLIT_PART(l.useragent, '/', 1), '-', 3))
    WHEN l.useragent ILIKE 'curl/%' THEN 'curl'
    WHEN l.useragent ILIKE 'Wget/%' THEN 'wget'
    WHEN l.useragent ILIKE 'python-requests/%' THEN 'python-requests'
    WHEN l.useragent ILIKE 'Mozilla/%' THEN 'browser'
    ELSE 'other'
  END AS client_family,
  -- Bytes of object data that left the bucket (bytessent alone also counts error documents,
  -- listings and the XML of copy responses): see docs/detections.md, "bytes_out".
  CASE
    WHEN l.operation = 'REST.COPY.OBJECT_GET' AND l.httpstatus = 200 THEN COALESCE(l.objectsize, 0)
    WHEN REGEXP_LIKE(l.operation, '(REST|SOAP|WEBSITE)[.]GET[.]OBJECT') AND l.httpstatus IN (200, 206) THEN COALESCE(l.bytessent, 0)
    WHEN l.operation IN ('REST.GET.OBJECT_TORRENT', 'REST.POST.SELECT', 'REST.POST.SELECT_OBJECT_CONTENT') AND l.httpstatus IN (200, 206) THEN COALESCE(l.bytessent, 0)
    ELSE 0
  END AS bytes_out
FROM s3_access_logs l;

CREATE OR REPLACE VIEW s3_bucket_accounts AS
WITH votes AS (
  SELECT bucket_name, requester_account, COUNT(*) AS requests
  FROM s3_access_logs_classified
  WHERE requester_account IS NOT NULL
    AND operation_class IN ('write', 'delete', 'permission_change', 'configuration_change')
    AND httpstatus < 400
    -- The last 30 days of data (relative to the newest request, a metadata lookup in Snowflake),
    -- so the inference costs the same every day however long the table grows.
    AND requestdatetime >= DATEADD('day', -30, (SELECT MAX(requestdatetime) FROM s3_access_logs))
  GROUP BY bucket_name, requester_account
)
SELECT bucket_name, requester_account AS owner_account
FROM votes
QUALIFY ROW_NUMBER() OVER (PARTITION BY bucket_name ORDER BY requests DESC, requester_account) = 1;

CREATE OR REPLACE VIEW s3_access_logs_enriched AS
SELECT
  c.*,
  a.owner_account AS bucket_account,
  -- NULL where it cannot be known: an anonymous or non-account requester, or no owner inferred.
  CASE
    WHEN c.requester_account IS NULL OR a.owner_account IS NULL THEN NULL
    ELSE c.requester_account <> a.owner_account
  END AS cross_account
FROM s3_access_logs_classified c
LEFT JOIN s3_bucket_accounts a ON a.bucket_name = c.bucket_name;
