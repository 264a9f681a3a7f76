-- Findings of the optional scheduled detection run (02-task.sql). Off by default: nothing here
-- is applied unless you run  s3-access-logs setup-snowflake --schedule  (or apply these files).
-- One row per finding: the detection, its severity and ATT&CK technique, then the columns every
-- detection returns, the window it was found in, and when it was first recorded and last updated.
-- Idempotent.

CREATE TABLE IF NOT EXISTS s3_access_logs_findings (
  detection     VARCHAR NOT NULL,
  severity      VARCHAR NOT NULL,
  technique     VARCHAR,
  principal     VARCHAR,
  source_ip     VARCHAR,
  bucket        VARCHAR,
  first_seen    TIMESTAMP_TZ,
  last_seen     TIMESTAMP_TZ,
  requests      NUMBER(38,0),
  bytes_out     NUMBER(38,0),
  evidence      VARCHAR,
  window_start  TIMESTAMP_TZ,
  window_end    TIMESTAMP_TZ,
  found_at      TIMESTAMP_TZ NOT NULL,
  updated_at    TIMESTAMP_TZ
);
