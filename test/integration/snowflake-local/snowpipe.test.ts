/**
 * snowflake-local's Snowpipe: the project's pipe objects (sql/pipe/) loading staged files from
 * fauxqs on S3 event notifications, through the real AWS SDK and the real snowflake-sdk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../../helpers/snowflake.ts';
import { csvRecord, startSnowpipe, STAGING_PREFIX, type SnowpipeTest } from '../../helpers/snowpipe.ts';

const P = STAGING_PREFIX;

/** A typed row: the 28 columns, then logbucket, logkey, logline. */
function row(over: Partial<Record<'key' | 'requestdatetime' | 'bytessent' | 'objectsize' | 'aclrequired' | 'errorcode' | 'referrer', unknown>>, logkey: string, line: number) {
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
    'owner', 'bucket', o.requestdatetime as string, '192.0.2.1', 'arn:aws:iam::1:user/x', 'REQ', 'REST.GET.OBJECT', o.key as string,
    'GET /a/b.txt HTTP/1.1', 200, o.errorcode as string | null, o.bytessent as number, o.objectsize as bigint, 12, 10, o.referrer as string,
    'curl/8, "quoted"', null, 'host', 'SigV4', 'ECDHE', 'AuthHeader', 'bucket.s3.amazonaws.com', 'TLSv1.3', null, o.aclrequired as boolean | null, null, null,
    'logs', logkey, line,
  ]);
}

function manifest(logkey: string, rowcount: number, rejectcount: number) {
  return csvRecord(['logs', logkey, 'etag1', '00AB', 1234, rowcount + rejectcount, rowcount, rejectcount, 'parsed', null, 7]);
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
      'S3_ACCESS_LOGS_LOADS_PIPE', 'S3_ACCESS_LOGS_RAW_PIPE', 'S3_ACCESS_LOGS_REJECTS_PIPE', 'S3_ACCESS_LOGS_ROWS_PIPE',
    ]);
    expect(new Set(pipes.map((p) => p.notification_channel))).toEqual(new Set([t.queueArn]));
    const [status] = await exec(t.conn, "SELECT SYSTEM$PIPE_STATUS('s3_access_logs_rows_pipe') AS S");
    expect(JSON.parse(String(status!.S))).toMatchObject({ executionState: 'RUNNING', pendingFileCount: 0, notificationChannelName: t.queueArn });
  });

  it('loads rows, rejects and the manifest with exact column types', async () => {
    await t.stage(`${P}rows/obj1.csv.gz`, [
      row({}, 'k1', 1),
      row({ key: null, requestdatetime: '2019-02-06T00:00:38.123Z', bytessent: null, objectsize: 0, aclrequired: false, errorcode: 'NoSuchKey', referrer: 'a,b\n"c"' }, 'k1', 3),
    ]);
    await t.stage(`${P}rejects/obj1.csv.gz`, [csvRecord(['logs', 'k1', 2, 'expected 27 fields or more, got 5', 'bad line'])]);
    await t.stage(`${P}manifests/obj1.csv.gz`, [manifest('k1', 2, 1)]);
    await t.idle();

    const rows = await exec(t.conn, 'SELECT * FROM s3_access_logs WHERE logkey = ? ORDER BY logline', ['k1']);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ KEY: 'a/b.txt', BYTESSENT: 42, OBJECTSIZE: 9_007_199_254_740_991, ACLREQUIRED: true, ERRORCODE: null, REFERRER: '', USERAGENT: 'curl/8, "quoted"', LOGLINE: 1 });
    expect(rows[1]).toMatchObject({ KEY: null, BYTESSENT: null, OBJECTSIZE: 0, ACLREQUIRED: false, ERRORCODE: 'NoSuchKey', REFERRER: 'a,b\n"c"', LOGLINE: 3 });
    expect((rows[0]!.REQUESTDATETIME as Date).toISOString()).toBe('2019-02-06T00:00:38.000Z');
    expect((rows[1]!.REQUESTDATETIME as Date).toISOString()).toBe('2019-02-06T00:00:38.123Z');
    expect(rows[0]!.LOADEDAT).toBeInstanceOf(Date);

    const [big] = await exec(t.conn, 'SELECT TO_VARCHAR(objectsize) AS S FROM s3_access_logs WHERE logkey = ? AND logline = 1', ['k1']);
    expect(big!.S).toBe('9007199254740991');
    const rejects = await exec(t.conn, 'SELECT logline, reason, rawline FROM s3_access_logs_rejects WHERE logkey = ?', ['k1']);
    expect(rejects).toEqual([{ LOGLINE: 2, REASON: 'expected 27 fields or more, got 5', RAWLINE: 'bad line' }]);
    const ledger = await exec(t.conn, 'SELECT etag, sequencer, bytes, linecount, rowcount, rejectcount, mode, replayid, claimid, loadcount FROM s3_access_logs_loads WHERE logkey = ?', ['k1']);
    expect(ledger).toEqual([
      { ETAG: 'etag1', SEQUENCER: '00AB', BYTES: 1234, LINECOUNT: 3, ROWCOUNT: 2, REJECTCOUNT: 1, MODE: 'parsed', REPLAYID: null, CLAIMID: 'pipe:manifests/obj1.csv.gz', LOADCOUNT: 1 },
    ]);
    const history = await exec(
      t.conn,
      "SELECT file_name, status, row_count, pipe_name FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'S3_ACCESS_LOGS', START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP()))) WHERE file_name LIKE '%obj1%'",
    );
    expect(history).toEqual([{ FILE_NAME: 'rows/obj1.csv.gz', STATUS: 'Loaded', ROW_COUNT: 2, PIPE_NAME: 'S3_ACCESS_LOGS_ROWS_PIPE' }]);
  });
});
