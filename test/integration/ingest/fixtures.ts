/**
 * Shared set-up for the ingest integration tests: fauxqs (S3) and snowflake-local in-process,
 * the tables from sql/0*.sql, log lines built from typed rows, SQS events, and query helpers.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent } from 'aws-lambda';
import snowflake from 'snowflake-sdk';
import { formatLine, type AccessLogRow } from '../../../shared/access-log/index.ts';
import type { IngestConfig, LoadMode, SnowflakeCredentials } from '../../../shared/config.ts';
import { notificationBody } from '../../../local/harness/events.ts';
import {
  configureSnowflakeSdk,
  createConnectionProvider,
  execute,
  type ConnectionProvider,
} from '../../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../../shared/snowflake/credentials.ts';
import { applySqlFiles, tableSqlFiles } from '../../../shared/snowflake/sql-files.ts';
import { createIngestHandler, type IngestHandler } from '../../../functions/ingest/handler.ts';
import type { BatchSummary } from '../../../functions/ingest/observability.ts';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';
import { startSnowflakeLocal } from 'snowflake-local';

export const LOG_BUCKET = 'access-logs-test';
export const OTHER_BUCKET = 'not-my-logs';

export type SnowflakeLocal = Awaited<ReturnType<typeof startSnowflakeLocal>>;

export interface Stack {
  aws: AwsLocal;
  sf: SnowflakeLocal;
  credentials: SnowflakeCredentials;
  /** A connection of its own, for assertions. */
  db: snowflake.Connection;
  stop(): Promise<void>;
}

/**
 * `lockTimeoutMs`: how long snowflake-local lets a statement wait for a table lock (default 60 s);
 * `detachedAbortMs`: how long a detached transaction may block one (default 5 min, Snowflake's).
 */
export async function startStack(options: { lockTimeoutMs?: number; detachedAbortMs?: number } = {}): Promise<Stack> {
  configureSnowflakeSdk();
  const aws = await startAwsLocal();
  const sf = await startSnowflakeLocal({ port: 0, ...options });
  const credentials: SnowflakeCredentials = {
    account: 'local',
    username: 'local',
    password: 'local',
    database: 'S3_ACCESS_LOGS',
    schema: 'PUBLIC',
    accessUrl: sf.url,
  };
  await aws.s3.send(new CreateBucketCommand({ Bucket: LOG_BUCKET }));
  await aws.s3.send(new CreateBucketCommand({ Bucket: OTHER_BUCKET }));
  const db = snowflake.createConnection({
    accessUrl: sf.url,
    account: 'local',
    username: 'local',
    password: 'local',
    database: 'S3_ACCESS_LOGS',
    schema: 'PUBLIC',
  });
  await db.connectAsync();
  await applySqlFiles(db, tableSqlFiles());
  return {
    aws,
    sf,
    credentials,
    db,
    async stop() {
      await new Promise<void>((r) => db.destroy(() => r()));
      await sf.stop();
      await aws.stop();
    },
  };
}

export function ingestConfig(stack: Stack, overrides: Partial<IngestConfig> = {}): IngestConfig {
  return {
    logBuckets: [LOG_BUCKET],
    logPrefixes: ['logs/'],
    snowflake: { kind: 'env', credentials: stack.credentials },
    loadMethod: 'insert',
    insertChunkRows: 2000,
    memoryBudgetBytes: 32 << 20,
    logLevel: 'SILENT',
    loadMode: 'parsed' as LoadMode,
    ...overrides,
  };
}

export interface TestHandler {
  handle: IngestHandler;
  summaries: BatchSummary[];
  connections: ConnectionProvider;
}

export function makeHandler(stack: Stack, overrides: Partial<IngestConfig> = {}): TestHandler {
  const config = ingestConfig(stack, overrides);
  const connections = createConnectionProvider(credentialsProvider(config.snowflake!));
  const summaries: BatchSummary[] = [];
  const handle = createIngestHandler({
    config,
    s3: stack.aws.s3,
    connections,
    logger: new Logger({ logLevel: 'SILENT' }),
    onBatch: (s) => summaries.push(s),
  });
  return { handle, summaries, connections };
}

/** A plausible row; `i` varies every field that has a type worth checking. */
export function makeRow(i: number, overrides: Partial<AccessLogRow> = {}): AccessLogRow {
  return {
    bucketowner: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
    bucket_name: 'customer-data',
    requestdatetime: new Date(Date.UTC(2024, 4, 1, 10, 0, i % 60)).toISOString().replace('.000Z', 'Z'),
    remoteip: `192.0.2.${i % 250}`,
    requester: 'arn:aws:iam::123456789012:user/alice',
    requestid: `3E57427F3EXAMPLE${i}`,
    operation: i % 3 === 0 ? 'REST.PUT.OBJECT' : 'REST.GET.OBJECT',
    key: `reports/2024/file%20${i}.csv`,
    request_uri: `GET /customer-data/reports/2024/file%20${i}.csv HTTP/1.1`,
    httpstatus: i % 7 === 0 ? 404 : 200,
    errorcode: i % 7 === 0 ? 'NoSuchKey' : null,
    bytessent: i % 7 === 0 ? null : 1000 + i,
    objectsize: 5_000_000_000 + i,
    totaltime: 30 + i,
    turnaroundtime: i % 5 === 0 ? null : 10,
    referrer: null,
    useragent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1',
    versionid: null,
    hostid: 'Xsa2EXAMPLEhostid=',
    sigv: 'SigV4',
    ciphersuite: 'ECDHE-RSA-AES128-GCM-SHA256',
    authtype: 'AuthHeader',
    endpoint: 'customer-data.s3.us-east-1.amazonaws.com',
    tlsversion: 'TLSv1.3',
    accesspointarn: null,
    aclrequired: i % 2 === 0,
    sourceregion: null,
    extrafields: null,
    ...overrides,
  };
}

export const linesOf = (rows: AccessLogRow[]): string[] => rows.map(formatLine);

/** Puts an object and returns its event reference (size and ETag as S3 would announce them). */
export async function putLog(
  stack: Stack,
  key: string,
  body: string | Uint8Array,
  bucket = LOG_BUCKET,
): Promise<{ bucket: string; key: string; size: number; etag: string }> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const r = await stack.aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  return { bucket, key, size: bytes.length, etag: r.ETag!.replace(/"/g, '') };
}

let messageCounter = 0;
/** An SQS event: one message per body. */
export function sqsEvent(bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body) => {
      const messageId = `msg-${++messageCounter}`;
      return {
        messageId,
        receiptHandle: `rh-${messageId}`,
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:ingest',
        awsRegion: 'us-east-1',
      };
    }),
  };
}

/** One message per object, as S3 sends them. */
export const eventFor = (
  objects: Array<{ bucket: string; key: string; size?: number; etag?: string }>,
  replay?: { force: boolean; id: string },
) => sqsEvent(objects.map((o) => notificationBody([o], replay)));

export async function query<T = Record<string, unknown>>(
  stack: Stack,
  sql: string,
  binds: Array<string | number> = [],
): Promise<T[]> {
  const rows = await execute<Record<string, unknown>>(stack.db, sql, binds);
  // Lower-case the column names so tests read the same whatever case the server returns.
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v]))) as T[];
}

export async function count(stack: Stack, table: string, key: string): Promise<number> {
  const [r] = await query<{ n: unknown }>(stack, `SELECT COUNT(*) AS n FROM ${table} WHERE logkey = ?`, [key]);
  return Number(r?.n);
}
