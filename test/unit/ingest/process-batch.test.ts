import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent } from 'aws-lambda';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { processBatch } from '../../../functions/ingest/process-batch.ts';
import { parseLine, formatLine } from '../../../shared/access-log/index.ts';
import type { IngestConfig } from '../../../shared/config.ts';
import { notificationBody } from '../../../local/harness/events.ts';
import { ledgerId, RowBuilder } from '../../../shared/snowflake/loader.ts';
import type { Precheck, Sink } from '../../../shared/snowflake/sink.ts';

const config: IngestConfig = {
  logBuckets: ['my-logs'],
  logPrefixes: ['logs/'],
  snowflake: { kind: 'env', credentials: { account: 'a', username: 'u', password: 'p', database: 'D', schema: 'S' } },
  loadMethod: 'insert',
  insertChunkRows: 10,
  memoryBudgetBytes: 1 << 20,
  logLevel: 'SILENT',
  loadMode: 'parsed',
};

const event = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({ messageId: `m${i}`, body }) as SQSEvent['Records'][number]),
});

describe('processBatch without objects to load', () => {
  it('fails unreadable messages only, acknowledges test events and disallowed objects, and never connects', async () => {
    let connected = false;
    const deps = {
      config,
      s3: new S3Client({ region: 'us-east-1' }),
      logger: new Logger({ logLevel: 'SILENT' }),
      connections: {
        async get(): Promise<never> {
          connected = true;
          throw new Error('must not connect');
        },
        async lease(): Promise<never> {
          connected = true;
          throw new Error('must not connect');
        },
        async reset() {},
        async close() {},
      },
    };
    const { response, summary } = await processBatch(
      event([
        '{not json',
        JSON.stringify({ Event: 's3:TestEvent', Service: 'Amazon S3' }),
        notificationBody([{ bucket: 'someone-else', key: 'logs/x' }]),
        notificationBody([{ bucket: 'my-logs', key: 'elsewhere/x' }]),
        JSON.stringify({ hello: 1 }),
      ]),
      deps,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }, { itemIdentifier: 'm4' }]);
    expect(summary.skipped['not-allowed']).toBe(2);
    expect(connected).toBe(false);
  });

  it('fails every message with an object when Snowflake is unreachable', async () => {
    const deps = {
      config,
      s3: new S3Client({ region: 'us-east-1' }),
      logger: new Logger({ logLevel: 'SILENT' }),
      connections: {
        async get(): Promise<never> {
          throw new Error('connection refused');
        },
        async lease(): Promise<never> {
          throw new Error('connection refused');
        },
        async reset() {},
        async close() {},
      },
    };
    const { response } = await processBatch(
      event([notificationBody([{ bucket: 'my-logs', key: 'logs/a' }]), JSON.stringify({ Event: 's3:TestEvent' })]),
      deps,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
  });
});

describe('RowBuilder', () => {
  const line = formatLine({
    bucketowner: 'owner',
    bucket_name: 'b',
    requestdatetime: '2024-05-01T10:00:00Z',
    remoteip: '192.0.2.1',
    requester: null,
    requestid: 'R1',
    operation: 'REST.GET.OBJECT',
    key: 'k',
    request_uri: 'GET /b/k HTTP/1.1',
    httpstatus: 200,
    errorcode: null,
    bytessent: 10,
    objectsize: 10,
    totaltime: 1,
    turnaroundtime: 1,
    referrer: null,
    useragent: 'ua',
    versionid: null,
    hostid: 'h',
    sigv: 'SigV4',
    ciphersuite: 'c',
    authtype: 'AuthHeader',
    endpoint: 'e',
    tlsversion: 'TLSv1.2',
    accesspointarn: null,
    aclrequired: true,
    sourceregion: null,
    extrafields: null,
  });

  it('binds typed rows in table order with lineage, and rejects with reason and raw line', () => {
    const b = new RowBuilder({ bucket: 'lb', key: 'lk' }, 'parsed', '2024-06-01T00:00:00.000Z');
    const row = b.add({ line: 3, raw: line, result: parseLine(line) });
    expect(row.reject).toBe(false);
    expect(row.bind).toHaveLength(32);
    expect(row.bind.slice(0, 3)).toEqual(['owner', 'b', '2024-05-01T10:00:00Z']);
    expect(row.bind.slice(28)).toEqual(['lb', 'lk', 3, '2024-06-01T00:00:00.000Z']);
    const bad = b.add({ line: 4, raw: 'junk', result: parseLine('junk') });
    expect(bad).toEqual({
      reject: true,
      bind: ['lb', 'lk', 4, (parseLine('junk') as { reason: string }).reason, 'junk', '2024-06-01T00:00:00.000Z'],
    });
    expect(b.counts).toMatchObject({ lines: 2, rows: 1, rejects: 1, newestRequest: '2024-05-01T10:00:00Z' });
  });

  it('in raw mode stages every line', () => {
    const b = new RowBuilder({ bucket: 'lb', key: 'lk' }, 'raw', 't');
    expect(b.add({ line: 1, raw: 'junk', result: parseLine('junk') })).toEqual({
      reject: false,
      bind: ['lb', 'lk', 1, 'junk', 't'],
    });
    expect(b.counts).toMatchObject({ lines: 1, rows: 1, rejects: 0 });
  });
});

describe('processBatch through a sink', () => {
  /** A sink that loads nothing: its look-up decides every object. */
  const fakeSink = (verdicts: Map<string, Precheck>, opened: { n: number }): Sink => ({
    method: 'pipe',
    buffers: false,
    streamConcurrency: 2,
    async open() {
      opened.n++;
    },
    async check() {
      return verdicts;
    },
    async loadBuffered() {
      throw new Error('not used');
    },
    async loadStreamed() {
      throw new Error('not used');
    },
    cannotStart: () => undefined,
    stats: () => ({ roundTrips: 0, transactions: 0, filesStaged: 3 }),
    async close() {
      return undefined;
    },
  });

  it("acknowledges the sink's duplicates and fails, counted, the objects it says were overwritten", async () => {
    const opened = { n: 0 };
    const verdicts = new Map<string, Precheck>([
      [ledgerId({ bucket: 'my-logs', key: 'logs/a' }), { kind: 'duplicate' }],
      [
        ledgerId({ bucket: 'my-logs', key: 'logs/b' }),
        { kind: 'failed', reason: 'overwritten', error: new Error('b was overwritten') },
      ],
    ]);
    const { response, summary } = await processBatch(
      event([
        notificationBody([{ bucket: 'my-logs', key: 'logs/a' }]),
        notificationBody([{ bucket: 'my-logs', key: 'logs/b' }]),
      ]),
      {
        config,
        s3: new S3Client({ region: 'us-east-1' }),
        logger: new Logger({ logLevel: 'SILENT' }),
        sink: () => fakeSink(verdicts, opened),
      },
    );
    expect(opened.n).toBe(1);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(summary).toMatchObject({ objectsFailed: 1, objectsOverwritten: 1, filesStaged: 3 });
    expect(summary.skipped.duplicate).toBe(1);
  });

  it('an S3 body that ends before its Content-Length fails the message (never a truncated_gzip reject acknowledged)', async () => {
    const gz = gzipSync(Buffer.from(Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n')));
    const s3 = {
      send: async () => ({ Body: Readable.from([gz.subarray(0, 100)]), ContentLength: gz.length, ETag: '"e"' }),
    } as unknown as S3Client;
    const seen: string[] = [];
    const sink: Sink = {
      ...fakeSink(new Map(), { n: 0 }),
      async loadStreamed(_t, lines) {
        for await (const l of lines) seen.push(l.result.ok ? 'row' : l.result.reason);
        return { result: 'loaded', counts: { bytes: 0, lines: seen.length, rows: 0, rejects: 0 } };
      },
    };
    const { response, summary } = await processBatch(
      event([notificationBody([{ bucket: 'my-logs', key: 'logs/cut.gz' }])]),
      {
        config,
        s3,
        logger: new Logger({ logLevel: 'SILENT' }),
        sink: () => sink,
      },
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    expect(summary.objectsLoaded).toBe(0);
    expect(seen).not.toContain('truncated_gzip');
  });

  it('fails every message with an object when the sink cannot be created', async () => {
    const { response } = await processBatch(event([notificationBody([{ bucket: 'my-logs', key: 'logs/a' }])]), {
      config,
      s3: new S3Client({ region: 'us-east-1' }),
      logger: new Logger({ logLevel: 'SILENT' }),
      // No `connections`: the insert sink cannot exist.
    });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
  });
});
