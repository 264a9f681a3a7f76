/**
 * Load method `pipe` end to end on the local stack (what `npm start` runs): the ingest handler
 * stages files in fauxqs, the bridge announces them on the pipes' queue, snowflake-local's Snowpipe
 * loads them with the pipes of sql/pipe/. Compared against `insert` on the same sample.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/ingest/handler.ts';
import { COLUMNS } from '../../shared/access-log/index.ts';
import type { IngestConfig } from '../../shared/config.ts';
import { execute } from '../../shared/snowflake/connection.ts';
import { csvRecord } from '../../shared/snowflake/pipe/csv.ts';
import { manifestRecord, stagedNames } from '../../shared/snowflake/pipe/staged-files.ts';
import { REPO_ROOT } from '../../shared/snowflake/sql-files.ts';
import { generateSample } from '../../local/sample/index.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import { eventFor, linesOf, makeRow } from '../integration/ingest/fixtures.ts';

const dirs: string[] = [];
const tempDir = (name: string) => {
  const d = mkdtempSync(path.join(tmpdir(), `s3al-pipe-${name}-`));
  dirs.push(d);
  return d;
};

let pipe: Stack;
let insert: Stack;
const truth = generateSample().truth;

beforeAll(async () => {
  pipe = await startStack({
    awsPort: 0,
    snowflakePort: 0,
    dataDir: tempDir('pipe'),
    logLevel: 'SILENT',
    loadMethod: 'pipe',
  });
  insert = await startStack({
    awsPort: 0,
    snowflakePort: 0,
    dataDir: tempDir('insert'),
    logLevel: 'SILENT',
    loadMethod: 'insert',
  });
}, 60_000);
afterAll(async () => {
  await pipe?.stop();
  await insert?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sql = async (stack: Stack, text: string, binds: Array<string | number> = []) =>
  execute(await stack.connections.get(), text, binds);
const count = async (stack: Stack, table: string, key: string) =>
  Number((await sql(stack, `SELECT COUNT(*) AS N FROM ${table} WHERE logkey = ?`, [key]))[0]!.N);

/** Every column but the load time (and, in the ledger, what differs by design between methods). */
const TABLES = {
  rows: `SELECT ${[...COLUMNS, 'logbucket', 'logkey', 'logline'].join(', ')} FROM s3_access_logs ORDER BY logbucket, logkey, logline`,
  rejects:
    'SELECT logbucket, logkey, logline, reason, rawline FROM s3_access_logs_rejects ORDER BY logbucket, logkey, logline',
  ledger:
    'SELECT logbucket, logkey, etag, bytes, linecount, rowcount, rejectcount, mode, replayid FROM s3_access_logs_loads ORDER BY logbucket, logkey',
};

/** A handler like the stack's, on another S3 client, loading any key of the log bucket (the bridge only announces logs/). */
function handlerFor(
  stack: Stack,
  s3: S3Client = stack.aws.s3,
  overrides: Partial<IngestConfig> = {},
  withSnowflake = false,
) {
  const config: IngestConfig = { ...stack.config, logPrefixes: [], ...overrides };
  return createIngestHandler({
    config,
    s3,
    logger: new Logger({ logLevel: 'SILENT' }),
    ...(withSnowflake ? { connections: stack.connections } : {}),
  });
}

async function putLog(stack: Stack, key: string, lines: string[]) {
  const body = `${lines.join('\n')}\n`;
  const r = await stack.aws.s3.send(new PutObjectCommand({ Bucket: stack.info.logBucket, Key: key, Body: body }));
  return { bucket: stack.info.logBucket, key, size: Buffer.byteLength(body), etag: r.ETag!.replace(/"/g, '') };
}

describe('load method pipe on the local stack', () => {
  it('loads the generated sample with exactly the rows, rejects and ledger of insert, every column', async () => {
    const p = await pipe.load({ kind: 'sample' });
    const i = await insert.load({ kind: 'sample' });
    expect(p).toMatchObject({
      objects: truth.objects,
      rows: truth.rows,
      rejects: truth.rejects,
      dlq: 0,
      files: { loaded: 3 * truth.objects, failed: 0 },
    });
    expect(i).toMatchObject({ objects: truth.objects, rows: truth.rows, rejects: truth.rejects, dlq: 0 });
    for (const [name, text] of Object.entries(TABLES)) {
      const [a, b] = await Promise.all([sql(pipe, text), sql(insert, text)]);
      expect(a.length, name).toBe(name === 'ledger' ? truth.objects : name === 'rows' ? truth.rows : truth.rejects);
      expect(a, name).toEqual(b);
    }
    // The ledger says which method loaded each object.
    expect(
      await sql(
        pipe,
        "SELECT COUNT(*) AS N FROM s3_access_logs_loads WHERE claimid LIKE 'pipe:manifests/%' AND loadcount = 1",
      ),
    ).toEqual([{ N: truth.objects }]);
  }, 240_000);

  it('a second run loads nothing', async () => {
    const again = await pipe.load({ kind: 'sample' });
    expect(again).toMatchObject({
      objects: 0,
      rows: 0,
      rejects: 0,
      skipped: truth.objects,
      files: { loaded: 0, failed: 0 },
    });
    expect(await sql(pipe, 'SELECT COUNT(*) AS N FROM s3_access_logs')).toEqual([{ N: truth.rows }]);
  }, 120_000);

  it('a message delivered twice, concurrently, loads once', async () => {
    const obj = await putLog(pipe, 'concurrent/2026-11-30-00-00-00-AAAA', [
      ...linesOf([1, 2, 3].map((n) => makeRow(n))),
      'not a log line',
    ]);
    const [a, b] = [handlerFor(pipe), handlerFor(pipe)];
    const results = await Promise.all([a(eventFor([obj])), b(eventFor([obj]))]);
    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    await pipe.settle();
    expect([
      await count(pipe, 's3_access_logs', obj.key),
      await count(pipe, 's3_access_logs_rejects', obj.key),
      await count(pipe, 's3_access_logs_loads', obj.key),
    ]).toEqual([3, 1, 1]);
  }, 60_000);

  it('a crash after the rows file is written but before the manifest, then a redelivery, loads once', async () => {
    const obj = await putLog(pipe, 'crash/2026-11-30-00-00-01-BBBB', linesOf([4, 5].map((n) => makeRow(n))));
    // The real SDK on the real endpoint, with the manifest PUT failing as if the Lambda died there.
    const crashing = new S3Client({
      endpoint: pipe.aws.endpoint,
      region: pipe.aws.region,
      credentials: pipe.aws.credentials,
      forcePathStyle: true,
    });
    crashing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (context.commandName === 'PutObjectCommand' && input.Key?.includes('/manifests/'))
          throw new Error('simulated crash before the manifest');
        return next(args);
      },
      { step: 'initialize', name: 'crashBeforeManifest' },
    );
    const event = eventFor([obj]);
    expect(await handlerFor(pipe, crashing)(event)).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    });
    crashing.destroy();
    await pipe.settle();
    // Snowpipe loaded the rows; no ledger row yet (the pipe-loads check would say so).
    expect([await count(pipe, 's3_access_logs', obj.key), await count(pipe, 's3_access_logs_loads', obj.key)]).toEqual([
      2, 0,
    ]);

    expect(await handlerFor(pipe)(event)).toEqual({ batchItemFailures: [] });
    await pipe.settle();
    expect([await count(pipe, 's3_access_logs', obj.key), await count(pipe, 's3_access_logs_loads', obj.key)]).toEqual([
      2, 1,
    ]);
  }, 60_000);

  it('a staged file Snowpipe cannot load is reported in the summary and by the pipe-loads check, not lost', async () => {
    // A rows file with a value its column cannot hold (as a writer bug would stage), and its manifest.
    const key = 'logs/2026-11-30-00-00-02-CCCC';
    const names = stagedNames(pipe.info.stagingPrefix!, pipe.info.logBucket, key, 'parsed');
    const good = linesOf([makeRow(6)])[0]!;
    const values = [...Object.values(makeRow(6)), pipe.info.logBucket, key, 1];
    values[COLUMNS.indexOf('bytessent')] = 'lots';
    const put = (k: string, text: string) =>
      pipe.aws.s3.send(new PutObjectCommand({ Bucket: pipe.info.stagingBucket!, Key: k, Body: gzipSync(text) }));
    await put(names.data[0]!.key, csvRecord(values as Array<string | number | boolean | null>));
    await put(names.data[1]!.key, '');
    await put(
      names.manifest,
      manifestRecord({
        bucket: pipe.info.logBucket,
        key,
        bytes: good.length,
        lines: 1,
        rows: 1,
        rejects: 0,
        mode: 'parsed',
        parseMs: 1,
      }),
    );
    // npm start's summary of the next load lists it.
    const logs = tempDir('logs');
    writeFileSync(path.join(logs, '2026-11-30-00-00-03-DDDD'), `${good}\n`);
    const summary = await pipe.load({ kind: 'dir', dir: logs });
    // Loaded: the new object's three files, and the bad object's rejects and manifest.
    expect(summary.files).toMatchObject({ loaded: 5, failed: 1 });
    expect(summary.files!.failures).toEqual([
      {
        table: 's3_access_logs',
        file: names.data[0]!.key.slice(pipe.info.stagingPrefix!.length),
        error: expect.stringMatching(/^Load failed: /),
      },
    ]);
    expect(await count(pipe, 's3_access_logs', key)).toBe(0);

    const check = await sql(pipe, readFileSync(path.join(REPO_ROOT, 'sql', 'checks', 'pipe-loads.sql'), 'utf8'));
    const problems = check.map((r) => [r.PROBLEM, r.LOGKEY ?? r.FILE_NAME]);
    expect(problems).toContainEqual(['failed_file', `s3://${pipe.info.stagingBucket}/${names.data[0]!.key}`]);
    expect(problems).toContainEqual(['rows_missing', key]);
  }, 60_000);

  it('LOAD_MODE=raw stages every line for s3_access_logs_staging', async () => {
    const obj = await putLog(pipe, 'raw/2026-11-30-00-00-04-EEEE', [...linesOf([makeRow(7)]), 'not a log line']);
    expect(await handlerFor(pipe, pipe.aws.s3, { loadMode: 'raw' })(eventFor([obj]))).toEqual({
      batchItemFailures: [],
    });
    await pipe.settle();
    const staged = await sql(
      pipe,
      'SELECT logline, raw FROM s3_access_logs_staging WHERE logkey = ? ORDER BY logline',
      [obj.key],
    );
    expect(staged).toEqual([
      { LOGLINE: 1, RAW: linesOf([makeRow(7)])[0] },
      { LOGLINE: 2, RAW: 'not a log line' },
    ]);
    expect(
      await sql(pipe, 'SELECT mode, linecount, rowcount, rejectcount FROM s3_access_logs_loads WHERE logkey = ?', [
        obj.key,
      ]),
    ).toEqual([{ MODE: 'raw', LINECOUNT: 2, ROWCOUNT: 2, REJECTCOUNT: 0 }]);
  }, 60_000);

  it('a forced replay goes through insert when Snowflake credentials are configured, replacing the rows', async () => {
    const obj = await putLog(pipe, 'forced/2026-11-30-00-00-05-FFFF', linesOf([8, 9].map((n) => makeRow(n))));
    await handlerFor(pipe)(eventFor([obj]));
    await pipe.settle();
    expect(await count(pipe, 's3_access_logs', obj.key)).toBe(2);
    const forced = eventFor([obj], { force: true, id: 'replay-forced' });
    expect(await handlerFor(pipe, pipe.aws.s3, {}, true)(forced)).toEqual({ batchItemFailures: [] });
    await pipe.settle();
    expect(await count(pipe, 's3_access_logs', obj.key)).toBe(2);
    expect(await sql(pipe, 'SELECT loadcount, replayid FROM s3_access_logs_loads WHERE logkey = ?', [obj.key])).toEqual(
      [{ LOADCOUNT: 2, REPLAYID: 'replay-forced' }],
    );
  }, 60_000);

  it('after a forced replay of an overwritten key, events for its new version are duplicates, not "overwritten"', async () => {
    const key = 'forced/2026-11-30-00-00-06-GGGG';
    const old = await putLog(pipe, key, linesOf([10, 11].map((n) => makeRow(n))));
    await handlerFor(pipe)(eventFor([old]));
    await pipe.settle();
    // The key is overwritten: the staged files carry the old ETag, so its event fails loudly.
    const now = await putLog(pipe, key, linesOf([12, 13, 14].map((n) => makeRow(n))));
    expect(now.etag).not.toBe(old.etag);
    const event = eventFor([now]);
    expect(await handlerFor(pipe)(event)).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    });
    // The forced replay replaces the rows through insert and restamps the staged files with the new ETag ...
    expect(await handlerFor(pipe, pipe.aws.s3, {}, true)(eventFor([now], { force: true, id: 'replay-new' }))).toEqual({
      batchItemFailures: [],
    });
    await pipe.settle();
    // ... so a later (re)delivery of the new version's event is a duplicate: acknowledged, nothing loaded twice.
    expect(await handlerFor(pipe)(eventFor([now]))).toEqual({ batchItemFailures: [] });
    await pipe.settle();
    expect(await count(pipe, 's3_access_logs', key)).toBe(3);
    expect(
      await sql(pipe, 'SELECT etag, rowcount, loadcount FROM s3_access_logs_loads WHERE logkey = ?', [key]),
    ).toEqual([{ ETAG: now.etag, ROWCOUNT: 3, LOADCOUNT: 2 }]);
  }, 60_000);

  it('keeps the ledger invariant linecount = rowcount + rejectcount for every object, with either method', async () => {
    for (const stack of [pipe, insert]) {
      const rows = await sql(stack, 'SELECT logkey, linecount, rowcount, rejectcount FROM s3_access_logs_loads');
      expect(rows.length).toBeGreaterThanOrEqual(truth.objects);
      expect(rows.filter((r) => Number(r.LINECOUNT) !== Number(r.ROWCOUNT) + Number(r.REJECTCOUNT))).toEqual([]);
    }
  });
});
