/**
 * The whole pipeline on embedded stand-ins, wired exactly as in AWS:
 *
 *   log object → fauxqs S3 → notification bridge → fauxqs SQS (RedrivePolicy → DLQ)
 *     → poller (Lambda's SQS event-source mapping) → the real ingest handler, then by load method:
 *       pipe:   staged files → fauxqs S3 (staging bucket) → notification bridge → the pipes' SQS
 *               queue → snowflake-local's Snowpipe (auto-ingest) → DuckDB
 *       insert: snowflake-sdk → snowflake-local (DuckDB file under the data dir)
 *
 * `startStack` brings everything up, applies the table DDL and writes `<data-dir>/stack.json` so
 * `backfill --local` and `parity --local` can find the running stack. `load` uploads the sample
 * (or the user's files) and waits until every object is loaded, skipped or dead-lettered.
 * `runQueries` runs `sql/queries/*.sql`. Errors a user can fix are `StackError`s: one sentence.
 */
import { mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync, accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { snowpipeOptions, startAwsLocal, type AwsLocal } from './aws.ts';
import { startBridge, type Bridge } from './bridge.ts';
import { startPoller } from './poller.ts';
import { generateSample, type SampleOptions } from './sample/index.ts';
import { startSnowflakeLocal, type SnowflakeLocal } from 'snowflake-local';
import {
  INGEST_DEFAULTS,
  loadIngestConfig,
  type IngestConfig,
  type LoadMethod,
  type LogLevel,
} from '../shared/config.ts';
import { applyPipeSql, stagingUrl } from '../shared/snowflake/pipe-sql.ts';
import { pipeLoads, type PipeLoads } from './pipe-loads.ts';
import { execute, type ConnectionProvider } from '../shared/snowflake/connection.ts';
import { REPO_ROOT, applySqlFiles, tableSqlFiles } from '../shared/snowflake/sql-files.ts';
import { bindParams, loadSqlTemplates } from '../shared/snowflake/sql-params.ts';
import { createIngestHandler, defaultConnections } from '../functions/ingest/handler.ts';
import {
  pidAlive,
  readStackInfo,
  SNOWFLAKE_LOGIN,
  STACK_FILE,
  StackError,
  WAREHOUSE_FILE,
  type StackInfo,
} from './stack-info.ts';

export { STACK_FILE, StackError, type StackInfo } from './stack-info.ts';
import type { BatchSummary } from '../functions/ingest/observability.ts';

export interface StackOptions {
  /** 0 = any free port. */
  awsPort: number;
  snowflakePort: number;
  dataDir: string;
  logBucket?: string;
  logPrefix?: string;
  /** `pipe` (default): staged files loaded by snowflake-local's Snowpipe; `insert`: transactions. */
  loadMethod?: LoadMethod;
  /** Lambda-like settings of the event-source mapping and the queue. */
  batchSize?: number;
  batchingWindowMs?: number;
  concurrency?: number;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  /** The ingest's Powertools log level (its JSON lines go to stdout). */
  logLevel?: LogLevel;
  /** Errors that do not stop the stack (a failed receive, a handler that threw). */
  onError?: (error: unknown) => void;
  /** Every ingest invocation's summary (the CLI reports objects dropped in later). */
  onBatch?: (summary: BatchSummary) => void;
}

export interface LoadSummary {
  /** Objects uploaded this run. */
  uploaded: number;
  /** Objects loaded by this run. */
  objects: number;
  rows: number;
  rejects: number;
  /** Objects the ingest skipped (already loaded, outside the allowed prefixes, gone). */
  skipped: number;
  /** Messages in the DLQ. */
  dlq: number;
  ms: number;
  method: LoadMethod;
  /** `pipe`: staged files Snowpipe loaded and failed during this load (failed ones listed). */
  files?: { loaded: number; failed: number; failures: PipeLoads['failures'] };
}

export interface QueryResult {
  file: string;
  name: string;
  columns: string[];
  rows: Array<Record<string, unknown>>;
  ms: number;
}

export interface Stack {
  info: StackInfo;
  aws: AwsLocal;
  /** snowflake-local; its `faults` let tests make statements fail. */
  snowflake: SnowflakeLocal;
  connections: ConnectionProvider;
  /** The ingest handler's configuration (tests build more handlers like it). */
  config: IngestConfig;
  /** Waits until the ingest queue is empty and, in `pipe`, every staged file is announced and handled. */
  settle(): Promise<void>;
  /** Uploads objects and waits until the pipeline has dealt with every one of them. */
  load(source: LoadSource, onProgress?: (done: number, total: number) => void): Promise<LoadSummary>;
  runQueries(dir?: string): Promise<QueryResult[]>;
  stop(): Promise<void>;
}

export type LoadSource = { kind: 'sample'; options?: SampleOptions } | { kind: 'dir'; dir: string };

const DB_FILE = WAREHOUSE_FILE;
export const STAGING_BUCKET = 'local-access-logs-staging';

/** Fails early, before anything starts, if `--logs` cannot be read. Returns the files found. */
export function listLogFiles(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new StackError(`cannot read --logs ${dir}: ${reason(err)}. Pass a directory of S3 access log files.`);
  }
  if (!st.isDirectory())
    throw new StackError(`--logs ${dir} is not a directory. Pass a directory of S3 access log files.`);
  const files: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      throw new StackError(`cannot read --logs directory ${d}: ${reason(err)}.`);
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !e.name.startsWith('.')) {
        try {
          accessSync(p, constants.R_OK);
        } catch (err) {
          throw new StackError(`cannot read ${p} in --logs: ${reason(err)}.`);
        }
        files.push(p);
      }
    }
  };
  walk(dir);
  if (files.length === 0) throw new StackError(`--logs ${dir} holds no files. Put S3 access log objects in it.`);
  return files;
}

function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
  } catch (err) {
    throw new StackError(`cannot use --data-dir ${dataDir}: ${reason(err)}.`);
  }
  if (!statSync(dataDir).isDirectory()) throw new StackError(`--data-dir ${dataDir} is not a directory.`);
  let previous: StackInfo | null = null;
  try {
    previous = readStackInfo(dataDir);
  } catch {
    // A stack.json we cannot read is stale: a live stack rewrites it on start.
    previous = null;
  }
  if (previous && previous.pid !== process.pid && pidAlive(previous.pid)) {
    throw new StackError(
      `a stack is already running on ${dataDir} (pid ${previous.pid}, AWS at ${previous.awsEndpoint}). Stop it with Ctrl-C, or pass another --data-dir.`,
    );
  }
}

function portError(err: unknown, flag: string, port: number): StackError | null {
  const e = err as NodeJS.ErrnoException;
  const text = `${e?.code ?? ''} ${e?.message ?? ''}`;
  if (/EADDRINUSE|already in use/i.test(text)) {
    return new StackError(
      `port ${port} is already in use (${flag}). Stop what is using it, or pass ${flag} with another port (0 = any free port).`,
    );
  }
  if (/EACCES/i.test(text))
    return new StackError(`not allowed to listen on port ${port} (${flag}). Pick a port above 1023.`);
  return null;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = path.resolve(options.dataDir);
  const logBucket = options.logBucket ?? 'local-access-logs';
  const logPrefix = options.logPrefix ?? 'logs/';
  prepareDataDir(dataDir);

  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };

  try {
    let aws: AwsLocal;
    try {
      aws = await startAwsLocal({ port: options.awsPort });
    } catch (err) {
      throw portError(err, '--aws-port', options.awsPort) ?? err;
    }
    stops.push(() => aws.stop());

    // The pipes' notification channel: the staging bucket's ObjectCreated events go here (bridged,
    // as S3 would send them), and snowflake-local's Snowpipe consumes them.
    const loadMethod = options.loadMethod ?? 'pipe';
    const stagingPrefix = INGEST_DEFAULTS.stagingPrefix;
    await aws.s3.send(new CreateBucketCommand({ Bucket: STAGING_BUCKET }));
    const pipeQueue = await aws.createQueue('snowpipe-notifications');

    let snowflake: SnowflakeLocal;
    try {
      // Only the stack's own login is accepted (snowflake-local takes any login when no user is
      // configured): the password is no secret, but a mistyped or foreign login fails loudly.
      snowflake = await startSnowflakeLocal({
        port: options.snowflakePort,
        dbPath: path.join(dataDir, DB_FILE),
        users: [{ name: SNOWFLAKE_LOGIN.username, password: SNOWFLAKE_LOGIN.password }],
        snowpipe: snowpipeOptions(aws, pipeQueue, 50),
      });
    } catch (err) {
      throw (
        portError(err, '--snowflake-port', options.snowflakePort) ??
        new StackError(
          `cannot open the warehouse in ${path.join(dataDir, DB_FILE)}: ${reason(err)}. The data dir may be corrupt: move it away, or pass another --data-dir.`,
        )
      );
    }
    stops.push(() => snowflake.stop());

    // The queue as serverless.yml defines it, with a short visibility timeout so local retries are quick.
    await aws.s3.send(new CreateBucketCommand({ Bucket: logBucket }));
    const deadLetter = await aws.createQueue('access-logs-dlq');
    const dlqUrl = deadLetter.url;
    const queueUrl = (
      await aws.createQueue('access-logs', {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 10),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetter.arn,
          maxReceiveCount: options.maxReceiveCount ?? 3,
        }),
      })
    ).url;

    const config = loadIngestConfig({
      LOG_BUCKETS: logBucket,
      LOG_PREFIXES: logPrefix,
      LOG_LEVEL: options.logLevel ?? 'ERROR',
      LOAD_METHOD: loadMethod,
      STAGING_BUCKET: STAGING_BUCKET,
      STAGING_PREFIX: stagingPrefix,
      SNOWFLAKE_ACCOUNT: SNOWFLAKE_LOGIN.account,
      SNOWFLAKE_USERNAME: SNOWFLAKE_LOGIN.username,
      SNOWFLAKE_PASSWORD: SNOWFLAKE_LOGIN.password,
      SNOWFLAKE_DATABASE: SNOWFLAKE_LOGIN.database,
      SNOWFLAKE_SCHEMA: SNOWFLAKE_LOGIN.schema,
      SNOWFLAKE_ACCESS_URL: snowflake.url,
    });
    const logger = new Logger({ serviceName: 's3-access-logs-ingest', logLevel: config.logLevel });
    // The stack always has Snowflake credentials (queries, forced replays), whatever the load method.
    const connections = defaultConnections(config, logger)!;
    stops.push(() => connections.close());

    // The table DDL that ships (sql/01..09), not 00-setup (roles, warehouse) nor the fallback path.
    let conn;
    try {
      conn = await connections.get();
      await applySqlFiles(conn, tableSqlFiles());
      // The pipe objects that ship (sql/pipe/), on a stage over the local staging bucket.
      await applyPipeSql(conn, {
        url: stagingUrl(STAGING_BUCKET, stagingPrefix),
        credentials: { awsKeyId: aws.credentials.accessKeyId, awsSecretKey: aws.credentials.secretAccessKey },
      });
    } catch (err) {
      throw new StackError(
        `cannot set up the warehouse in ${path.join(dataDir, DB_FILE)}: ${reason(err)}. The data dir may be corrupt: move it away, or pass another --data-dir.`,
      );
    }

    const totals = { objects: 0, rows: 0, rejects: 0, skipped: 0 };
    let stagingBridge: Bridge | undefined;
    const onBatch = (s: BatchSummary) => {
      totals.objects += s.objectsLoaded;
      totals.rows += s.rows;
      totals.rejects += s.rejects;
      totals.skipped += Object.values(s.skipped).reduce((a, b) => a + b, 0);
      // Staged files announce themselves at once, as S3's notification would.
      if (s.filesStaged > 0) stagingBridge?.kick().catch((err) => options.onError?.(err));
      options.onBatch?.(s);
    };
    const handler = createIngestHandler({ config, s3: aws.s3, connections, logger, onBatch });
    const poller = startPoller({
      sqs: aws.sqs,
      queueUrl,
      handler,
      batchSize: options.batchSize ?? 10,
      batchingWindowMs: options.batchingWindowMs ?? 500,
      // One batch at a time: snowflake-local runs on one DuckDB file, where concurrent claims would
      // conflict and wait for the visibility timeout instead of queueing on a lock as in Snowflake.
      concurrency: options.concurrency ?? 1,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    stops.push(() => poller.stop());
    const bridge: Bridge = startBridge({
      s3: aws.s3,
      sqs: aws.sqs,
      bucket: logBucket,
      prefix: logPrefix,
      queueUrl,
      region: aws.region,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    stops.push(() => bridge.stop());
    stagingBridge = startBridge({
      s3: aws.s3,
      sqs: aws.sqs,
      bucket: STAGING_BUCKET,
      prefix: stagingPrefix,
      queueUrl: pipeQueue.url,
      region: aws.region,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    const pipeBridge = stagingBridge;
    stops.push(() => pipeBridge.stop());

    const info: StackInfo = {
      awsEndpoint: aws.endpoint,
      region: aws.region,
      snowflakeUrl: snowflake.url,
      logBucket,
      logPrefix,
      queueUrl,
      dlqUrl,
      loadMethod,
      stagingBucket: STAGING_BUCKET,
      stagingPrefix,
      pid: process.pid,
      dataDir,
      snowflake: {
        account: SNOWFLAKE_LOGIN.account,
        username: SNOWFLAKE_LOGIN.username,
        database: SNOWFLAKE_LOGIN.database,
        schema: SNOWFLAKE_LOGIN.schema,
      },
      startedAt: new Date().toISOString(),
    };
    const stackFile = path.join(dataDir, STACK_FILE);
    writeFileSync(stackFile, `${JSON.stringify(info, null, 2)}\n`);
    stops.unshift(async () => {
      // Only our own file: a newer stack may have replaced it.
      try {
        if (readStackInfo(dataDir)?.pid === process.pid) unlinkSync(stackFile);
      } catch {
        /* already gone */
      }
    });

    async function queueDepth(url: string): Promise<number> {
      const out = await aws.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const a = out.Attributes ?? {};
      return (
        Number(a.ApproximateNumberOfMessages ?? 0) +
        Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
      );
    }

    async function collect(source: LoadSource): Promise<Array<{ key: string; body: Buffer | string }>> {
      const objects: Array<{ key: string; body: Buffer | string }> = [];
      if (source.kind === 'sample') {
        for (const o of generateSample({ ...source.options, prefix: logPrefix }).objects)
          objects.push({ key: o.key, body: o.body });
      } else {
        for (const file of listLogFiles(source.dir)) {
          const rel = path.relative(source.dir, file).split(path.sep).join('/');
          let body: Buffer;
          try {
            body = await readFile(file);
          } catch (err) {
            throw new StackError(`cannot read ${file}: ${reason(err)}.`);
          }
          objects.push({ key: `${logPrefix}${rel}`, body });
        }
      }
      return objects;
    }

    /** A few uploads at a time, while the pipeline already ingests: S3 delivers logs as a trickle. */
    async function upload(objects: Array<{ key: string; body: Buffer | string }>): Promise<void> {
      let next = 0;
      const worker = async () => {
        while (next < objects.length) {
          const o = objects[next++]!;
          await aws.s3.send(new PutObjectCommand({ Bucket: logBucket, Key: o.key, Body: o.body }));
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      await bridge.kick();
    }

    /** Every staged file announced, then every announcement handled by the pipes. */
    async function pipesIdle(): Promise<void> {
      await pipeBridge.kick();
      await snowflake.snowpipe.idle();
    }

    return {
      info,
      aws,
      snowflake,
      connections,
      config,
      async settle() {
        while ((await queueDepth(queueUrl)) > 0) await new Promise((r) => setTimeout(r, 100));
        await pipesIdle();
      },
      async load(source, onProgress) {
        const t0 = performance.now();
        // Snowpipe's loads of this run: snowflake-local stamps COPY_HISTORY with this process's clock.
        const since = new Date();
        const before = { ...totals, sent: bridge.sent, dlq: await queueDepth(dlqUrl), deleted: poller.stats.deleted };
        const objects = await collect(source);
        const uploaded = objects.length;
        onProgress?.(0, uploaded);
        let uploadError: unknown;
        let uploadDone = false;
        const uploading = upload(objects).then(
          () => (uploadDone = true),
          (err) => (uploadError = err ?? new Error('upload failed')),
        );
        // Done when every object is uploaded and announced and the queue is empty: each message
        // was then either deleted by the poller (loaded or skipped) or moved to the DLQ.
        for (;;) {
          if (uploadError) throw uploadError;
          const depth = await queueDepth(queueUrl);
          const dlq = (await queueDepth(dlqUrl)) - before.dlq;
          const done = Math.min(uploaded, poller.stats.deleted - before.deleted + dlq);
          onProgress?.(done, uploaded);
          if (uploadDone && bridge.sent - before.sent >= uploaded && depth === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await uploading;
        const summary: LoadSummary = {
          uploaded,
          objects: totals.objects - before.objects,
          rows: totals.rows - before.rows,
          rejects: totals.rejects - before.rejects,
          skipped: totals.skipped - before.skipped,
          dlq: await queueDepth(dlqUrl),
          ms: 0,
          method: loadMethod,
        };
        if (loadMethod === 'pipe') {
          await pipesIdle();
          const loads = await pipeLoads(await connections.get(), since);
          // What reached the tables: a file staged again (a re-run) is skipped by the load history.
          const manifestsFailed = loads.failures.filter((f) => f.table === 's3_access_logs_loads').length;
          summary.skipped += Math.max(0, summary.objects - loads.objects - manifestsFailed);
          Object.assign(summary, { objects: loads.objects, rows: loads.rows, rejects: loads.rejects });
          summary.files = { loaded: loads.files.loaded, failed: loads.files.failed, failures: loads.failures };
        }
        summary.ms = performance.now() - t0;
        return summary;
      },
      async runQueries(dir = path.join(REPO_ROOT, 'sql', 'queries')) {
        // The investigations with their default parameters: the sample's planted incident.
        const conn = await connections.get();
        const results: QueryResult[] = [];
        for (const t of loadSqlTemplates(dir)) {
          const { sqlText, binds } = bindParams(t);
          const t0 = performance.now();
          const rows = await execute<Record<string, unknown>>(conn, sqlText, binds);
          results.push({
            file: path.basename(t.file),
            name: t.title,
            columns: rows[0] ? Object.keys(rows[0]) : [],
            rows,
            ms: performance.now() - t0,
          });
        }
        return results;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'no such file or directory';
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied';
  if (e?.code === 'ENOTDIR') return 'not a directory';
  return (e?.message ?? String(err)).split('\n')[0]!;
}
