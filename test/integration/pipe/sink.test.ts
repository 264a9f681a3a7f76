/**
 * The `pipe` sink against fauxqs with the real AWS SDK: the ingest handler writes staged files,
 * and the tests read them back from S3 and check every record.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../../functions/ingest/handler.ts';
import type { BatchSummary } from '../../../functions/ingest/observability.ts';
import { COLUMNS, formatLine, parseLine } from '../../../shared/access-log/index.ts';
import type { IngestConfig } from '../../../shared/config.ts';
import { stagedNames } from '../../../shared/snowflake/pipe/staged-files.ts';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';
import { readStagedFile } from '../../helpers/csv.ts';
import { eventFor, makeRow } from '../ingest/fixtures.ts';

const LOGS = 'pipe-test-logs';
const STAGING = 'pipe-test-staging';
const PREFIX = 'pipe/';

let aws: AwsLocal;
beforeAll(async () => {
  aws = await startAwsLocal();
  await aws.s3.send(new CreateBucketCommand({ Bucket: LOGS }));
  await aws.s3.send(new CreateBucketCommand({ Bucket: STAGING }));
});
afterAll(async () => {
  await aws?.stop();
});

function handler(overrides: Partial<IngestConfig> = {}) {
  const config: IngestConfig = {
    logBuckets: [LOGS],
    logPrefixes: ['logs/'],
    loadMethod: 'pipe',
    staging: { bucket: STAGING, prefix: PREFIX },
    insertChunkRows: 2000,
    memoryBudgetBytes: 8 << 20,
    logLevel: 'SILENT',
    loadMode: 'parsed',
    ...overrides,
  };
  const summaries: BatchSummary[] = [];
  const handle = createIngestHandler({
    config,
    s3: aws.s3,
    logger: new Logger({ logLevel: 'SILENT' }),
    onBatch: (s) => summaries.push(s),
  });
  return { handle, summaries, config };
}

async function put(key: string, body: string | Uint8Array) {
  const r = await aws.s3.send(new PutObjectCommand({ Bucket: LOGS, Key: key, Body: body }));
  return { bucket: LOGS, key, size: Buffer.byteLength(body), etag: r.ETag!.replace(/"/g, '') };
}

const names = (key: string, mode: 'parsed' | 'raw' = 'parsed') => stagedNames(PREFIX, LOGS, key, mode);
const read = (key: string) => readStagedFile(aws.s3, STAGING, key);
async function exists(key: string): Promise<boolean> {
  try {
    await aws.s3.send(new HeadObjectCommand({ Bucket: STAGING, Key: key }));
    return true;
  } catch {
    return false;
  }
}

/** What a typed row must look like in the rows file. */
function expectedRow(line: string, key: string, n: number) {
  const r = parseLine(line);
  if (!r.ok) throw new Error('fixture line must parse');
  const row = r.row as unknown as Record<string, string | number | boolean | null>;
  return [...COLUMNS.map((c) => row[c]!), LOGS, key, n];
}

describe('pipe sink', () => {
  it('stages typed rows, rejects with reasons and, last, a manifest carrying the ETag', async () => {
    const rows = [
      makeRow(1),
      makeRow(2, { useragent: 'quote " comma , newline-free ünïcödé 🎉', aclrequired: null }),
      makeRow(3, { bytessent: 9007199254740991 }),
    ];
    const lines = rows.map(formatLine);
    const body = `${[lines[0], 'garbage line', lines[1], '', lines[2], 'x "y", z'].join('\n')}\n`;
    const obj = await put('logs/2026-11-30-00-00-00-AAAA', body);
    const { handle, summaries } = handler();
    expect(await handle(eventFor([obj]))).toEqual({ batchItemFailures: [] });
    expect(summaries[0]).toMatchObject({ objectsLoaded: 1, rows: 3, rejects: 2, filesStaged: 3, roundTrips: 0 });

    const n = names(obj.key);
    expect(await read(n.data[0]!.key)).toEqual([
      expectedRow(lines[0]!, obj.key, 1),
      expectedRow(lines[1]!, obj.key, 3),
      expectedRow(lines[2]!, obj.key, 5),
    ]);
    const rejects = await read(n.data[1]!.key);
    expect(rejects.map((r) => [r[0], r[1], r[2], r[4]])).toEqual([
      [LOGS, obj.key, 2, 'garbage line'],
      [LOGS, obj.key, 6, 'x "y", z'],
    ]);
    expect(rejects.every((r) => typeof r[3] === 'string' && r[3] !== '')).toBe(true);
    const [manifest] = await read(n.manifest);
    // linecount counts non-blank lines (line numbers still count the blank one): linecount = rowcount + rejectcount.
    expect(manifest!.slice(0, 10)).toEqual([LOGS, obj.key, obj.etag, null, obj.size, 5, 3, 2, 'parsed', null]);
    expect(typeof manifest![10]).toBe('number');
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: STAGING, Key: n.manifest }));
    expect(head.Metadata).toEqual({ etag: obj.etag });
  });

  it('a redelivery finds the manifest and reads nothing; a crash before the manifest is redone with the same files', async () => {
    const obj = await put('logs/2026-11-30-00-00-01-BBBB', [formatLine(makeRow(4)), 'junk'].join('\n'));
    const n = names(obj.key);
    const first = handler();
    await first.handle(eventFor([obj]));
    const rowsBefore = await read(n.data[0]!.key);
    const again = handler();
    expect(await again.handle(eventFor([obj]))).toEqual({ batchItemFailures: [] });
    expect(again.summaries[0]).toMatchObject({ objectsLoaded: 0, filesStaged: 0, bytes: 0 });
    expect(again.summaries[0]!.skipped.duplicate).toBe(1);

    // As if the Lambda died after the rows file: no manifest, no rejects file.
    await aws.s3.send(new DeleteObjectCommand({ Bucket: STAGING, Key: n.manifest }));
    await aws.s3.send(new DeleteObjectCommand({ Bucket: STAGING, Key: n.data[1]!.key }));
    const retry = handler();
    expect(await retry.handle(eventFor([obj]))).toEqual({ batchItemFailures: [] });
    expect(retry.summaries[0]).toMatchObject({ objectsLoaded: 1, rows: 1, rejects: 1, filesStaged: 3 });
    expect(await read(n.data[0]!.key)).toEqual(rowsBefore);
    expect(await read(n.data[1]!.key)).toHaveLength(1);
    expect((await read(n.manifest))[0]!.slice(4, 8)).toEqual([obj.size, 2, 1, 1]);
  });

  it('fails loudly, naming both ETags, when the key was overwritten after it was staged', async () => {
    const key = 'logs/2026-11-30-00-00-02-CCCC';
    const v1 = await put(key, formatLine(makeRow(5)));
    await handler().handle(eventFor([v1]));
    const v2 = await put(key, [formatLine(makeRow(5)), formatLine(makeRow(6))].join('\n'));
    expect(v2.etag).not.toBe(v1.etag);
    const h = handler();
    const event = eventFor([v2]);
    expect(await h.handle(event)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(h.summaries[0]).toMatchObject({ objectsFailed: 1, objectsOverwritten: 1, filesStaged: 0 });
    // The staged files still hold version 1: nothing was rewritten.
    expect((await read(names(key).manifest))[0]![2]).toBe(v1.etag);
  });

  it('the overwrite error is one sentence naming the key, both ETags and the fix', async () => {
    const key = 'logs/2026-11-30-00-00-03-DDDD';
    const v1 = await put(key, formatLine(makeRow(7)));
    await handler().handle(eventFor([v1]));
    const v2 = await put(key, formatLine(makeRow(8)));
    const logged: string[] = [];
    const logger = new Logger({ logLevel: 'ERROR' });
    logger.error = ((msg: string, extra: { error?: string }) =>
      void logged.push(`${msg} ${extra?.error ?? ''}`)) as Logger['error'];
    const { config } = handler();
    await createIngestHandler({ config, s3: aws.s3, logger })(eventFor([v2]));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(`s3://${LOGS}/${key} was overwritten after it was staged`);
    expect(logged[0]).toContain(v1.etag);
    expect(logged[0]).toContain(v2.etag);
    expect(logged[0]).toContain('replay the key with force');
  });

  it('raw mode stages every line verbatim in the raw file', async () => {
    const obj = await put('logs/2026-11-30-00-00-04-EEEE', gzipSync(`${formatLine(makeRow(9))}\r\nnot a log line\n`));
    const { handle, summaries } = handler({ loadMode: 'raw' });
    expect(await handle(eventFor([obj]))).toEqual({ batchItemFailures: [] });
    expect(summaries[0]).toMatchObject({ objectsLoaded: 1, rows: 2, rejects: 0, filesStaged: 2 });
    const n = names(obj.key, 'raw');
    expect(n.data.map((d) => d.kind)).toEqual(['raw']);
    expect(await read(n.data[0]!.key)).toEqual([
      [LOGS, obj.key, 1, formatLine(makeRow(9))],
      [LOGS, obj.key, 2, 'not a log line'],
    ]);
    expect((await read(n.manifest))[0]!.slice(5, 9)).toEqual([2, 2, 0, 'raw']);
    expect(await exists(names(obj.key).data[1]!.key)).toBe(false);
  });

  it('an empty object still gets every file, empty, so the set of names is fixed', async () => {
    const obj = await put('logs/2026-11-30-00-00-05-FFFF', '');
    await handler().handle(eventFor([obj]));
    const n = names(obj.key);
    expect(await read(n.data[0]!.key)).toEqual([]);
    expect(await read(n.data[1]!.key)).toEqual([]);
    expect((await read(n.manifest))[0]!.slice(4, 8)).toEqual([0, 0, 0, 0]);
  });

  it('streams an object whose staged file exceeds one part as a multipart upload, every line kept', async () => {
    // Random text barely compresses: ~8 MB of rejects is a gzip file of several 5 MiB parts' worth.
    const lines = Array.from({ length: 40_000 }, () => randomBytes(150).toString('base64'));
    const obj = await put('logs/2026-11-30-00-00-06-GGGG', lines.join('\n'));
    const { handle, summaries } = handler({ memoryBudgetBytes: 1 << 20 });
    expect(await handle(eventFor([obj]))).toEqual({ batchItemFailures: [] });
    expect(summaries[0]).toMatchObject({ rows: 0, rejects: 40_000 });
    const n = names(obj.key);
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: STAGING, Key: n.data[1]!.key }));
    expect(head.ContentLength).toBeGreaterThan(5 * 1024 * 1024);
    expect(head.Metadata).toEqual({ etag: obj.etag });
    const rejects = await read(n.data[1]!.key);
    expect(rejects.map((r) => r[4])).toEqual(lines);
    expect(rejects.map((r) => r[2])).toEqual(lines.map((_, i) => i + 1));
  });

  it('skips a missing object, and fails a forced replay when no Snowflake credentials are configured', async () => {
    const { handle, summaries } = handler();
    const gone = { bucket: LOGS, key: 'logs/never-written', etag: 'abc' };
    const obj = await put('logs/2026-11-30-00-00-07-HHHH', formatLine(makeRow(10)));
    const forced = eventFor([obj], { force: true, id: 'replay-1' });
    expect(await handle(eventFor([gone]))).toEqual({ batchItemFailures: [] });
    expect(summaries[0]!.skipped.missing).toBe(1);
    expect(await handle(forced)).toEqual({ batchItemFailures: [{ itemIdentifier: forced.Records[0]!.messageId }] });
    const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: STAGING, Prefix: `${PREFIX}manifests/` }));
    expect(listed.Contents?.map((c) => c.Key)).not.toContain(names(obj.key).manifest);
  });
});
