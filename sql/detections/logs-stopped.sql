-- name: logs-stopped
-- title: Logs for a source bucket stopped arriving
-- severity: medium
-- technique: T1562.008 Impair Defenses: Disable or Modify Cloud Logs
-- finds: Source buckets whose newest loaded request is older, at the end of the window (until),
--   than both min_silence_hours and gap_factor times the bucket's usual gap between log objects
--   (gap_p95_s of s3_access_logs_watermark). A bucket that logs once a day has a usual gap of a
--   day and is not reported after 20 quiet hours; a busy bucket silent for the same 20 hours is.
--   The window's start plays no part: silence is measured at its end.
-- param: min_silence_hours = '6'  silence below which nothing is reported; keep it above S3's delivery lag (hours)
-- param: gap_factor = '2'  how many usual gaps the silence must exceed
-- param: min_log_objects = '3'  log objects a bucket needs before its usual gap means anything
-- false positives: a bucket that really went quiet (a retired application, a holiday); logging
--   re-targeted to a log bucket this pipeline does not read; S3 delivery delays beyond hours.
-- triage: logging-changed on the bucket; the bucket's delivery lag (watermark); the ingest's
--   dead-letter queue and rejects.
WITH p AS (
  SELECT :since::TIMESTAMP_TZ AS since, :until::TIMESTAMP_TZ AS until, :min_silence_hours::NUMBER AS min_silence_hours,
         :gap_factor::FLOAT AS gap_factor, :min_log_objects::NUMBER AS min_log_objects
)
SELECT NULL AS principal, NULL AS source_ip, w.bucket_name AS bucket, w.newest_request AS first_seen, p.until AS last_seen,
       w.log_objects AS requests, 0 AS bytes_out,
       'silent ' || ROUND(DATEDIFF('second', w.newest_request, p.until) / 3600, 1) || ' h; usual gap (p95) '
         || ROUND(w.gap_p95_s / 3600, 1) || ' h, longest ' || ROUND(w.gap_max_s / 3600, 1) || ' h; newest load ' || w.newest_load AS evidence
FROM s3_access_logs_watermark w, p
WHERE w.log_objects >= p.min_log_objects
  AND w.newest_request < p.until
  AND DATEDIFF('second', w.newest_request, p.until) > p.min_silence_hours * 3600
  AND DATEDIFF('second', w.newest_request, p.until) > p.gap_factor * w.gap_p95_s
ORDER BY first_seen;
