/**
 * snowflake-local's Snowpipe: the project's pipe objects (sql/pipe/) loading staged files from
 * fauxqs on S3 event notifications, through the real AWS SDK and the real snowflake-sdk.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../shared/snowflake/sql-files.ts';
import { exec } from '../../../local/harness/snowflake.ts';
import {
  csvRecord,
  startSnowpipe,
  STAGING_BUCKET,
  STAGING_PREFIX,
  type SnowpipeTest,
} from '../../../local/harness/snowpipe.ts';

const P = STAGING_PREFIX;

/** A typed row: the 28 columns, then logbucket, logkey, logline. */
function row(
  over: Partial<
    Record<'key' | 'requestdatetime' | 'bytessent' | 'objectsize' | 'aclrequired' | 'errorcode' | 'referrer', unknown>
  >,
  logkey: string,
  line: number,
) {
  const o = {
    key: 'a/b.txt',
    requestdatetime: '2019-02-06T00:00:38Z',
    bytessent: 42,
    objectsize: 9_007_199_254_740_991n,
    aclrequired: true,
    errorcode: null,
    referrer: '',
    ...over,
  };
  return csvRecord([
    'owner',
    'bucket',
    o.requestdatetime as string,
    '192.0.2.1',
    'arn:aws:iam::1:user/x',
    'REQ',
    'REST.GET.OBJECT',
    o.key as string,
    'GET /a/b.txt HTTP/1.1',
    200,
    o.errorcode as string | null,
    o.bytessent as number,
    o.objectsize as bigint,
    12,
    10,
    o.referrer as string,
    'curl/8, "quoted"',
    null,
    'host',
    'SigV4',
    'ECDHE',
    'AuthHeader',
    'bucket.s3.amazonaws.com',
    'TLSv1.3',
    null,
    o.aclrequired as boolean | null,
    null,
    null,
    'logs',
    logkey,
    line,
  ]);
}

function manifest(logkey: string, rowcount: number, rejectcount: number) {
  return csvRecord([
    'logs',
    logkey,
    'etag1',
    '00AB',
    1234,
    rowcount + rejectcount,
    rowcount,
    rejectcount,
    'parsed',
    null,
    7,
  ]);
}

describe('snowflake-local Snowpipe auto-ingest', () => {
  let t: SnowpipeTest;
  beforeAll(async () => {
    t = await startSnowpipe();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('shows the pipes with the queue as notification channel, running', async () => {
    const pipes = await exec(t.conn, 'SHOW PIPES');
    expect(pipes.map((p) => p.name).sort()).toEqual([
      'S3_ACCESS_LOGS_LOADS_PIPE',
      'S3_ACCESS_LOGS_RAW_PIPE',
      'S3_ACCESS_LOGS_REJECTS_PIPE',
      'S3_ACCESS_LOGS_ROWS_PIPE',
    ]);
    expect(new Set(pipes.map((p) => p.notification_channel))).toEqual(new Set([t.queueArn]));
    const [status] = await exec(t.conn, "SELECT SYSTEM$PIPE_STATUS('s3_access_logs_rows_pipe') AS S");
    expect(JSON.parse(String(status!.S))).toMatchObject({
      executionState: 'RUNNING',
      pendingFileCount: 0,
      notificationChannelName: t.queueArn,
    });
  });

  it('loads rows, rejects and the manifest with exact column types', async () => {
    await t.stage(`${P}rows/obj1.csv.gz`, [
      row({}, 'k1', 1),
      row(
        {
          key: null,
          requestdatetime: '2019-02-06T00:00:38.123Z',
          bytessent: null,
          objectsize: 0,
          aclrequired: false,
          errorcode: 'NoSuchKey',
          referrer: 'a,b\n"c"',
        },
        'k1',
        3,
      ),
    ]);
    await t.stage(`${P}rejects/obj1.csv.gz`, [
      csvRecord(['logs', 'k1', 2, 'expected 27 fields or more, got 5', 'bad line']),
    ]);
    await t.stage(`${P}manifests/obj1.csv.gz`, [manifest('k1', 2, 1)]);
    await t.idle();

    const rows = await exec(t.conn, 'SELECT * FROM s3_access_logs WHERE logkey = ? ORDER BY logline', ['k1']);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      KEY: 'a/b.txt',
      BYTESSENT: 42,
      OBJECTSIZE: 9_007_199_254_740_991,
      ACLREQUIRED: true,
      ERRORCODE: null,
      REFERRER: '',
      USERAGENT: 'curl/8, "quoted"',
      LOGLINE: 1,
    });
    expect(rows[1]).toMatchObject({
      KEY: null,
      BYTESSENT: null,
      OBJECTSIZE: 0,
      ACLREQUIRED: false,
      ERRORCODE: 'NoSuchKey',
      REFERRER: 'a,b\n"c"',
      LOGLINE: 3,
    });
    expect((rows[0]!.REQUESTDATETIME as Date).toISOString()).toBe('2019-02-06T00:00:38.000Z');
    expect((rows[1]!.REQUESTDATETIME as Date).toISOString()).toBe('2019-02-06T00:00:38.123Z');
    expect(rows[0]!.LOADEDAT).toBeInstanceOf(Date);

    const [big] = await exec(
      t.conn,
      'SELECT TO_VARCHAR(objectsize) AS S FROM s3_access_logs WHERE logkey = ? AND logline = 1',
      ['k1'],
    );
    expect(big!.S).toBe('9007199254740991');
    const rejects = await exec(t.conn, 'SELECT logline, reason, rawline FROM s3_access_logs_rejects WHERE logkey = ?', [
      'k1',
    ]);
    expect(rejects).toEqual([{ LOGLINE: 2, REASON: 'expected 27 fields or more, got 5', RAWLINE: 'bad line' }]);
    const ledger = await exec(
      t.conn,
      'SELECT etag, sequencer, bytes, linecount, rowcount, rejectcount, mode, replayid, claimid, loadcount FROM s3_access_logs_loads WHERE logkey = ?',
      ['k1'],
    );
    expect(ledger).toEqual([
      {
        ETAG: 'etag1',
        SEQUENCER: '00AB',
        BYTES: 1234,
        LINECOUNT: 3,
        ROWCOUNT: 2,
        REJECTCOUNT: 1,
        MODE: 'parsed',
        REPLAYID: null,
        CLAIMID: 'pipe:manifests/obj1.csv.gz',
        LOADCOUNT: 1,
      },
    ]);
    const history = await exec(
      t.conn,
      "SELECT file_name, status, row_count, pipe_name FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'S3_ACCESS_LOGS', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP()))) WHERE file_name LIKE '%obj1%'",
    );
    expect(history).toEqual([
      { FILE_NAME: 'rows/obj1.csv.gz', STATUS: 'Loaded', ROW_COUNT: 2, PIPE_NAME: 'S3_ACCESS_LOGS_ROWS_PIPE' },
    ]);
  });

  it('loads a file delivered twice, or notified concurrently, once', async () => {
    await t.stage(`${P}rejects/twice.csv.gz`, [csvRecord(['logs', 'twice', 1, 'r', 'x'])]);
    await t.idle();
    await t.notify(`${P}rejects/twice.csv.gz`);
    await t.idle();
    // Three notifications in flight at once, one of them carrying the key twice.
    await t.stage(`${P}rejects/together.csv.gz`, [csvRecord(['logs', 'together', 1, 'r', 'x'])], { notify: false });
    const key = `${P}rejects/together.csv.gz`;
    await Promise.all([t.notify(key), t.notify(key, key), t.notify(key)]);
    await t.idle();
    const counts = await exec(
      t.conn,
      "SELECT logkey, COUNT(*) AS N FROM s3_access_logs_rejects WHERE logkey IN ('twice', 'together') GROUP BY logkey ORDER BY logkey",
    );
    expect(counts).toEqual([
      { LOGKEY: 'together', N: 1 },
      { LOGKEY: 'twice', N: 1 },
    ]);
    const history = await exec(
      t.conn,
      "SELECT file_name, status FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 's3_access_logs_rejects', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP()))) ORDER BY file_name",
    );
    expect(history.filter((h) => /twice|together/.test(String(h.FILE_NAME)))).toEqual([
      { FILE_NAME: 'rejects/together.csv.gz', STATUS: 'Loaded' },
      { FILE_NAME: 'rejects/twice.csv.gz', STATUS: 'Loaded' },
    ]);
  });

  it('fails a file with one bad record as a whole, in COPY_HISTORY and in the pipe-loads check', async () => {
    await t.stage(`${P}rows/bad.csv.gz`, [row({}, 'bad', 1), row({ bytessent: 'lots' }, 'bad', 2), row({}, 'bad', 3)]);
    await t.stage(`${P}manifests/bad.csv.gz`, [manifest('bad', 3, 0)]);
    await t.idle();
    expect(await exec(t.conn, "SELECT COUNT(*) AS N FROM s3_access_logs WHERE logkey = 'bad'")).toEqual([{ N: 0 }]);
    const [failed] = await exec(
      t.conn,
      "SELECT * FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'S3_ACCESS_LOGS', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP()))) WHERE file_name = 'rows/bad.csv.gz'",
    );
    expect(failed).toMatchObject({
      STATUS: 'Load failed',
      ROW_COUNT: 0,
      ERROR_COUNT: 1,
      FIRST_ERROR_LINE_NUMBER: 2,
      FIRST_ERROR_COLUMN_NAME: 'BYTESSENT',
      STAGE_LOCATION: 's3://local-access-logs-staging/pipe/',
      TABLE_NAME: 'S3_ACCESS_LOGS',
      PIPE_NAME: 'S3_ACCESS_LOGS_ROWS_PIPE',
    });
    expect(String(failed!.FIRST_ERROR_MESSAGE)).toContain('lots');

    const check = await exec(t.conn, readFileSync(path.join(REPO_ROOT, 'sql/checks/pipe-loads.sql'), 'utf8'));
    expect(check.filter((c) => c.PROBLEM === 'failed_file')).toEqual([
      expect.objectContaining({
        TABLENAME: 'S3_ACCESS_LOGS',
        FILE_NAME: 's3://local-access-logs-staging/pipe/rows/bad.csv.gz',
        DETAIL: expect.stringMatching(/^Load failed: .*lots.*\(line 2\)$/),
      }),
    ]);
    expect(check.filter((c) => c.PROBLEM === 'rows_missing')).toEqual([
      expect.objectContaining({
        TABLENAME: 'S3_ACCESS_LOGS',
        LOGBUCKET: 'logs',
        LOGKEY: 'bad',
        EXPECTED: 3,
        PRESENT: 0,
      }),
    ]);
    expect(check.filter((c) => c.LOGKEY === 'bad' && c.PROBLEM !== 'rows_missing')).toEqual([]);
    // The earlier tests staged rejects without a manifest: rows the ledger does not know of.
    expect(check.filter((c) => c.PROBLEM === 'no_ledger_row').map((c) => c.LOGKEY)).toEqual(['together', 'twice']);

    // Fixed and staged again, the file loads (a failed path is tried again) and the check is clear.
    await t.stage(`${P}rows/bad.csv.gz`, [row({}, 'bad', 1), row({}, 'bad', 2), row({}, 'bad', 3)]);
    await t.idle();
    expect(await exec(t.conn, "SELECT COUNT(*) AS N FROM s3_access_logs WHERE logkey = 'bad'")).toEqual([{ N: 3 }]);
    const after = await exec(t.conn, readFileSync(path.join(REPO_ROOT, 'sql/checks/pipe-loads.sql'), 'utf8'));
    expect(after.filter((c) => c.PROBLEM !== 'no_ledger_row')).toEqual([]);
  });

  it('records a file it cannot read, decompress or parse as failed, and keeps going', async () => {
    await t.aws.s3.send(
      new PutObjectCommand({
        Bucket: STAGING_BUCKET,
        Key: `${P}rejects/not-gzip.csv.gz`,
        Body: 'plain text, not gzip\n',
      }),
    );
    await t.notify(`${P}rejects/not-gzip.csv.gz`, `${P}rejects/missing.csv.gz`);
    await t.stage(`${P}rejects/open-quote.csv.gz`, ['"logs","k",1,"r","never closed']);
    await t.stage(`${P}rejects/fine.csv.gz`, [csvRecord(['logs', 'fine', 1, 'r', 'x'])]);
    await t.idle();
    const history = await exec(
      t.conn,
      "SELECT file_name, status, first_error_message FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'S3_ACCESS_LOGS_REJECTS', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP()))) WHERE file_name IN ('rejects/not-gzip.csv.gz', 'rejects/missing.csv.gz', 'rejects/open-quote.csv.gz', 'rejects/fine.csv.gz') ORDER BY file_name",
    );
    expect(history).toEqual([
      { FILE_NAME: 'rejects/fine.csv.gz', STATUS: 'Loaded', FIRST_ERROR_MESSAGE: null },
      {
        FILE_NAME: 'rejects/missing.csv.gz',
        STATUS: 'Load failed',
        FIRST_ERROR_MESSAGE: expect.stringMatching(
          /^Remote file 's3:\/\/local-access-logs-staging\/pipe\/rejects\/missing\.csv\.gz' could not be read: /,
        ),
      },
      {
        FILE_NAME: 'rejects/not-gzip.csv.gz',
        STATUS: 'Load failed',
        FIRST_ERROR_MESSAGE: expect.stringMatching(
          /^The file is not gzip-compressed as its file format says \(COMPRESSION = GZIP\): /,
        ),
      },
      {
        FILE_NAME: 'rejects/open-quote.csv.gz',
        STATUS: 'Load failed',
        FIRST_ERROR_MESSAGE: expect.stringMatching(/CSV Error on Line: 1/),
      },
    ]);
    expect(
      await exec(t.conn, "SELECT COUNT(*) AS N FROM s3_access_logs_rejects WHERE logkey IN ('k', 'fine')"),
    ).toEqual([{ N: 1 }]);
  });

  it('loads files notified together in one transaction, yet one bad file fails alone and the others load with their own counts', async () => {
    const rows = ['batch-a', 'batch-b', 'batch-bad', 'batch-c'];
    for (const [i, k] of rows.entries()) {
      const records =
        k === 'batch-bad'
          ? [row({}, k, 1), row({ requestdatetime: 'yesterday' }, k, 2)]
          : Array.from({ length: i + 1 }, (_, n) => row({}, k, n + 1));
      await t.stage(`${P}rows/${k}.csv.gz`, records, { notify: false });
    }
    await t.stage(`${P}manifests/batch-a.csv.gz`, [manifest('batch-a', 1, 0)], { notify: false });
    await t.stage(`${P}manifests/batch-b.csv.gz`, [manifest('batch-b', 2, 0)], { notify: false });
    await t.stage(`${P}rejects/batch-empty.csv.gz`, [], { notify: false });
    // One message: the engine takes these files as batches (per pipe), the bad one among them.
    await t.notify(
      ...rows.map((k) => `${P}rows/${k}.csv.gz`),
      `${P}manifests/batch-a.csv.gz`,
      `${P}manifests/batch-b.csv.gz`,
      `${P}rejects/batch-empty.csv.gz`,
    );
    await t.idle();
    const history = await exec(
      t.conn,
      "SELECT file_name, status, row_count, first_error_line_number, first_error_column_name FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'S3_ACCESS_LOGS', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP()))) WHERE file_name LIKE 'rows/batch-%' ORDER BY file_name",
    );
    expect(history).toEqual([
      {
        FILE_NAME: 'rows/batch-a.csv.gz',
        STATUS: 'Loaded',
        ROW_COUNT: 1,
        FIRST_ERROR_LINE_NUMBER: null,
        FIRST_ERROR_COLUMN_NAME: null,
      },
      {
        FILE_NAME: 'rows/batch-b.csv.gz',
        STATUS: 'Loaded',
        ROW_COUNT: 2,
        FIRST_ERROR_LINE_NUMBER: null,
        FIRST_ERROR_COLUMN_NAME: null,
      },
      {
        FILE_NAME: 'rows/batch-bad.csv.gz',
        STATUS: 'Load failed',
        ROW_COUNT: 0,
        FIRST_ERROR_LINE_NUMBER: 2,
        FIRST_ERROR_COLUMN_NAME: 'REQUESTDATETIME',
      },
      {
        FILE_NAME: 'rows/batch-c.csv.gz',
        STATUS: 'Loaded',
        ROW_COUNT: 4,
        FIRST_ERROR_LINE_NUMBER: null,
        FIRST_ERROR_COLUMN_NAME: null,
      },
    ]);
    expect(
      await exec(
        t.conn,
        "SELECT logkey, COUNT(*) AS N FROM s3_access_logs WHERE logkey LIKE 'batch-%' GROUP BY logkey ORDER BY logkey",
      ),
    ).toEqual([
      { LOGKEY: 'batch-a', N: 1 },
      { LOGKEY: 'batch-b', N: 2 },
      { LOGKEY: 'batch-c', N: 4 },
    ]);
    // Per-file metadata in a batch: each ledger row names its own manifest.
    expect(
      await exec(
        t.conn,
        "SELECT logkey, claimid FROM s3_access_logs_loads WHERE logkey LIKE 'batch-%' ORDER BY logkey",
      ),
    ).toEqual([
      { LOGKEY: 'batch-a', CLAIMID: 'pipe:manifests/batch-a.csv.gz' },
      { LOGKEY: 'batch-b', CLAIMID: 'pipe:manifests/batch-b.csv.gz' },
    ]);
    const [empty] = await exec(
      t.conn,
      "SELECT status, row_count FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'S3_ACCESS_LOGS_REJECTS', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP()))) WHERE file_name = 'rejects/batch-empty.csv.gz'",
    );
    expect(empty).toEqual({ STATUS: 'Loaded', ROW_COUNT: 0 });
  });

  it('does not load while a pipe is paused, and loads what waited once resumed', async () => {
    await exec(t.conn, 'ALTER PIPE s3_access_logs_raw_pipe SET PIPE_EXECUTION_PAUSED = TRUE');
    await t.stage(`${P}raw/paused.csv.gz`, [csvRecord(['logs', 'paused', 1, 'a raw line'])]);
    await t.idle();
    expect(await exec(t.conn, "SELECT COUNT(*) AS N FROM s3_access_logs_staging WHERE logkey = 'paused'")).toEqual([
      { N: 0 },
    ]);
    const [paused] = await exec(
      t.conn,
      "SELECT SYSTEM$PIPE_STATUS('S3_ACCESS_LOGS.PUBLIC.S3_ACCESS_LOGS_RAW_PIPE') AS S",
    );
    expect(JSON.parse(String(paused!.S))).toMatchObject({ executionState: 'PAUSED', pendingFileCount: 1 });

    await exec(t.conn, 'ALTER PIPE s3_access_logs_raw_pipe SET PIPE_EXECUTION_PAUSED = FALSE');
    await t.idle();
    expect(await exec(t.conn, "SELECT logline, raw FROM s3_access_logs_staging WHERE logkey = 'paused'")).toEqual([
      { LOGLINE: 1, RAW: 'a raw line' },
    ]);
    const [running] = await exec(t.conn, "SELECT SYSTEM$PIPE_STATUS('s3_access_logs_raw_pipe') AS S");
    expect(JSON.parse(String(running!.S))).toMatchObject({
      executionState: 'RUNNING',
      pendingFileCount: 0,
      lastIngestedFilePath: 'raw/paused.csv.gz',
    });
  });

  it('ALTER PIPE ... REFRESH queues the staged files the pipe has not loaded', async () => {
    await t.stage(`${P}rejects/unnotified.csv.gz`, [csvRecord(['logs', 'unnotified', 1, 'r', 'x'])], { notify: false });
    const sent = await exec(t.conn, "ALTER PIPE s3_access_logs_rejects_pipe REFRESH PREFIX = 'unnotified'");
    expect(sent).toEqual([{ File: 'rejects/unnotified.csv.gz', Status: 'SENT' }]);
    await t.idle();
    expect(await exec(t.conn, "SELECT COUNT(*) AS N FROM s3_access_logs_rejects WHERE logkey = 'unnotified'")).toEqual([
      { N: 1 },
    ]);
    expect(await exec(t.conn, "ALTER PIPE s3_access_logs_rejects_pipe REFRESH PREFIX = 'unnotified'")).toEqual([]);
  });

  it('ignores keys outside every pipe path, other buckets and messages that are not S3 events', async () => {
    await t.stage(`${P}elsewhere/x.csv.gz`, [csvRecord(['logs', 'elsewhere', 1, 'r', 'x'])]);
    await t.stage(`other/rejects/x.csv.gz`, [csvRecord(['logs', 'elsewhere', 1, 'r', 'x'])]);
    await t.aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: t.queueUrl,
        MessageBody: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }),
      }),
    );
    await t.idle();
    const all = await exec(
      t.conn,
      "SELECT COUNT(*) AS N FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'S3_ACCESS_LOGS_REJECTS', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP()))) WHERE file_name LIKE '%x.csv.gz'",
    );
    expect(all).toEqual([{ N: 0 }]);
    expect(await exec(t.conn, "SELECT COUNT(*) AS N FROM s3_access_logs_rejects WHERE logkey = 'elsewhere'")).toEqual([
      { N: 0 },
    ]);
  });
});

describe('snowflake-local Snowpipe across a restart', () => {
  it('keeps pipes, their pause state and load history in the DuckDB file: a re-notified file is skipped', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snowpipe-restart-'));
    const t = await startSnowpipe({ dbPath: path.join(dir, 'warehouse.duckdb') });
    try {
      await t.stage(`${P}rejects/r.csv.gz`, [csvRecord(['logs', 'restart', 1, 'r', 'x'])]);
      await t.idle();
      await exec(t.conn, 'ALTER PIPE s3_access_logs_loads_pipe SET PIPE_EXECUTION_PAUSED = TRUE');
      await t.restart();
      await t.notify(`${P}rejects/r.csv.gz`);
      await t.idle();
      expect(await exec(t.conn, "SELECT COUNT(*) AS N FROM s3_access_logs_rejects WHERE logkey = 'restart'")).toEqual([
        { N: 1 },
      ]);
      const pipes = await exec(t.conn, "SHOW PIPES LIKE '%loads%'");
      expect(pipes).toHaveLength(1);
      const [status] = await exec(t.conn, "SELECT SYSTEM$PIPE_STATUS('s3_access_logs_loads_pipe') AS S");
      expect(JSON.parse(String(status!.S)).executionState).toBe('PAUSED');
    } finally {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
