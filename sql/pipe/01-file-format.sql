-- Load method `pipe` (README, "Load methods"), step 1 of 3: the file format of the staged files.
--
-- The dialect the ingest Lambda writes (docs/pipe-contract: gzip, UTF-8, no header, `,` between
-- fields, `\n` after each record). NULL is an EMPTY UNQUOTED field (EMPTY_FIELD_AS_NULL); every
-- non-null string is enclosed in `"` with inner `"` doubled, so `""` is the empty string and a
-- string may hold `,`, `\n` or `\r`. NULL_IF = () so that no string value (not even `\N`, the
-- default) turns into NULL. ESCAPE_UNENCLOSED_FIELD = NONE: a backslash is data, not an escape.
-- Integers and booleans (TRUE/FALSE) are unquoted.
--
-- Applied by `s3-access-logs setup-snowflake --staging-url …` as the owner role S3_ACCESS_LOGS_ADMIN
-- (it owns the tables, so the pipes it owns may load them), and by the local stack.
-- Idempotent: IF NOT EXISTS (to change an option later, ALTER FILE FORMAT; replacing it would
-- stop the pipes that use it, STOPPED_FILE_FORMAT_DROPPED).

CREATE FILE FORMAT IF NOT EXISTS s3_access_logs_csv
  TYPE = CSV
  COMPRESSION = GZIP
  FIELD_DELIMITER = ','
  RECORD_DELIMITER = '\n'
  SKIP_HEADER = 0
  FIELD_OPTIONALLY_ENCLOSED_BY = '"'
  EMPTY_FIELD_AS_NULL = TRUE
  NULL_IF = ()
  ESCAPE_UNENCLOSED_FIELD = NONE
  ENCODING = 'UTF8'
  COMMENT = 'Staged files of s3-access-logs (load method pipe): gzip CSV, NULL = empty unquoted field.';
