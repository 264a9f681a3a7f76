/**
 * snowflake-local's Snowpipe objects as SQL: what CREATE/SHOW/DROP accept and refuse, that no
 * secret is kept or shown, and that replacing a pipe starts its load history afresh (as in
 * Snowflake), through the real snowflake-sdk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../../../local/harness/snowflake.ts';
import { csvRecord, startSnowpipe, STAGING_PREFIX, type SnowpipeTest } from '../../../local/harness/snowpipe.ts';

describe('snowflake-local Snowpipe DDL', () => {
  let t: SnowpipeTest;
  beforeAll(async () => {
    t = await startSnowpipe();
    await exec(t.conn, 'CREATE TABLE ddl_t (a VARCHAR, n NUMBER(38,0), f VARCHAR, ts TIMESTAMP_TZ)');
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('shows stages and file formats without their credentials', async () => {
    const stages = await exec(t.conn, 'SHOW STAGES');
    expect(stages).toEqual([
      expect.objectContaining({
        name: 'S3_ACCESS_LOGS_STAGE',
        url: 's3://local-access-logs-staging/pipe/',
        has_credentials: 'Y',
        type: 'EXTERNAL',
        storage_integration: null,
      }),
    ]);
    expect(JSON.stringify(stages)).not.toContain(
      t.aws.credentials.secretAccessKey === 'local' ? 'AWS_SECRET_KEY' : t.aws.credentials.secretAccessKey,
    );
    const formats = await exec(t.conn, "SHOW FILE FORMATS LIKE 's3_access%'");
    expect(formats).toEqual([expect.objectContaining({ name: 'S3_ACCESS_LOGS_CSV', type: 'CSV' })]);
    await exec(
      t.conn,
      "CREATE STAGE IF NOT EXISTS on_integration URL = 's3://other-bucket/x/' STORAGE_INTEGRATION = some_integration",
    );
    expect(await exec(t.conn, "SHOW STAGES LIKE 'ON_INTEGRATION'")).toEqual([
      expect.objectContaining({ storage_integration: 'SOME_INTEGRATION', has_credentials: 'N' }),
    ]);
  });

  it('refuses a pipe on a missing stage or file format, an existing name, and options it does not emulate', async () => {
    await expect(exec(t.conn, 'CREATE PIPE p1 AS COPY INTO ddl_t FROM @no_such_stage/x/')).rejects.toMatchObject({
      code: '002003',
      message: expect.stringContaining("Stage 'S3_ACCESS_LOGS.PUBLIC.NO_SUCH_STAGE' does not exist"),
    });
    await expect(
      exec(
        t.conn,
        "CREATE PIPE p1 AS COPY INTO ddl_t FROM @s3_access_logs_stage/x/ FILE_FORMAT = (FORMAT_NAME = 'nope')",
      ),
    ).rejects.toMatchObject({ code: '002003' });
    await expect(
      exec(t.conn, 'CREATE PIPE s3_access_logs_rows_pipe AS COPY INTO ddl_t FROM @s3_access_logs_stage/x/'),
    ).rejects.toMatchObject({ code: '002002' });
    for (const sql of [
      'CREATE PIPE p1 AS COPY INTO ddl_t FROM @s3_access_logs_stage/x/ ON_ERROR = CONTINUE',
      'CREATE PIPE p1 AS COPY INTO ddl_t FROM @s3_access_logs_stage/x/file.csv',
      'CREATE PIPE p1 AS COPY INTO ddl_t FROM (SELECT $1 FROM @s3_access_logs_stage/x/ WHERE $1 > 0)',
      'CREATE FILE FORMAT f2 TYPE = PARQUET',
      // Snowflake's default ESCAPE_UNENCLOSED_FIELD is a backslash, which the loader does not emulate.
      'CREATE PIPE p1 AS COPY INTO ddl_t FROM @s3_access_logs_stage/x/ FILE_FORMAT = (TYPE = CSV NULL_IF = ())',
      'CREATE PIPE p1 AS COPY INTO ddl_t FROM @s3_access_logs_stage/x/ FILE_FORMAT = (TYPE = CSV ESCAPE_UNENCLOSED_FIELD = NONE)',
      'CREATE PIPE p1 AS COPY INTO ddl_t (a) FROM (SELECT METADATA$FILE_SIZE FROM @s3_access_logs_stage/x/)',
      'CREATE STAGE internal_stage',
      'COPY INTO ddl_t FROM @s3_access_logs_stage/x/',
      'ALTER PIPE s3_access_logs_rows_pipe SET COMMENT = 1, ERROR_INTEGRATION = x',
    ]) {
      await expect(exec(t.conn, sql), sql).rejects.toMatchObject({
        code: '000002',
        message: expect.stringContaining('not supported by snowflake-local'),
      });
    }
  });

  it('loads through a pipe with inline format options, casts and metadata; OR REPLACE empties its load history; DROP stops it', async () => {
    await exec(
      t.conn,
      `CREATE PIPE ddl_pipe AUTO_INGEST = TRUE AS COPY INTO ddl_t (a, n, f, ts)
       FROM (SELECT UPPER(s.$1), s.$2, METADATA$FILENAME, s.$4 FROM @s3_access_logs_stage/ddl/ s)
       FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '"' COMPRESSION = GZIP NULL_IF = () ESCAPE_UNENCLOSED_FIELD = NONE)`,
    );
    const key = `${STAGING_PREFIX}ddl/one.csv.gz`;
    await t.stage(key, [
      csvRecord(['x', 12345678901234567890n, 'ignored', '2024-05-01T10:00:00.5Z']),
      csvRecord(['', null, null, null]),
    ]);
    await t.idle();
    const rows = await exec(t.conn, 'SELECT a, TO_VARCHAR(n) AS n, f, ts FROM ddl_t ORDER BY a DESC');
    expect(rows.map((r) => ({ ...r, TS: r.TS instanceof Date ? r.TS.toISOString() : r.TS }))).toEqual([
      { A: 'X', N: '12345678901234567890', F: 'ddl/one.csv.gz', TS: '2024-05-01T10:00:00.500Z' },
      { A: '', N: null, F: 'ddl/one.csv.gz', TS: null },
    ]);

    await t.notify(key);
    await t.idle();
    expect(await exec(t.conn, 'SELECT COUNT(*) AS N FROM ddl_t')).toEqual([{ N: 2 }]);
    await exec(
      t.conn,
      'CREATE OR REPLACE PIPE ddl_pipe AUTO_INGEST = TRUE AS COPY INTO ddl_t (a) FROM (SELECT $1 FROM @s3_access_logs_stage/ddl/)',
    );
    await t.notify(key);
    await t.idle();
    expect(await exec(t.conn, 'SELECT COUNT(*) AS N FROM ddl_t')).toEqual([{ N: 4 }]);

    await exec(t.conn, 'DROP PIPE ddl_pipe');
    await t.notify(key);
    await t.idle();
    expect(await exec(t.conn, 'SELECT COUNT(*) AS N FROM ddl_t')).toEqual([{ N: 4 }]);
    await expect(exec(t.conn, "SELECT SYSTEM$PIPE_STATUS('ddl_pipe')")).rejects.toMatchObject({ code: '002003' });
    expect(await exec(t.conn, 'DROP PIPE IF EXISTS ddl_pipe')).toEqual([
      { status: 'Drop statement executed successfully (object does not exist).' },
    ]);
  });
});
