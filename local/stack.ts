/**
 * The whole pipeline on embedded stand-ins, wired exactly as in AWS:
 *
 *   log object → fauxqs S3 → notification bridge → fauxqs SQS (RedrivePolicy → DLQ)
 *     → poller (Lambda's SQS event-source mapping) → the real ingest handler, then by load method:
 *       pipe:   staged files → fauxqs S3 (staging bucket) → notification bridge → the pipes' SQS
 *               queue → snowflake-local's Snowpipe (auto-ingest) → DuckDB
 *       insert: snowflake-sdk → snowflake-local (DuckDB file under the data dir)
 *
 * `startStack` brings everything up in named steps (data dir, AWS, warehouse, queues, ingest
 * config, DDL, ingest, stack file), stopping what it started if a step fails, and writes
 * `<data-dir>/stack.json` so `backfill --local` and `parity --local` can find the running stack.
 * The queue and the poller take the deployed settings (local/settings.ts names the few local
 * overrides). What the running stack does on request (`load`, `settle`, `runQueries`) is in
 * local/stack-load.ts. Errors a user can fix are `StackError`s: one sentence.
 */
import { mkdirSync, statSync, unlinkSync, writeFileSync, accessSync, constants } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { snowpipeOptions, startAwsLocal, type AwsLocal, type LocalQueue } from './aws.ts';
import { startBridge, type Bridge, type BridgeOptions } from './bridge.ts';
import { startPoller, type Poller } from './poller.ts';
import { startSnowflakeLocal, type SnowflakeLocal } from 'snowflake-local';
import {
  INGEST_DEFAULTS,
  loadIngestConfig,
  type IngestConfig,
  type LoadMethod,
  type LogLevel,
} from '../shared/config.ts';
import { applyPipeSql, stagingUrl } from '../shared/snowflake/pipe-sql.ts';
import type { ConnectionProvider } from '../shared/snowflake/connection.ts';
import { applySqlFiles, tableSqlFiles } from '../shared/snowflake/sql-files.ts';
import { createIngestHandler, defaultConnections } from '../functions/ingest/handler.ts';
import type { BatchSummary } from '../functions/ingest/observability.ts';
import { reason } from './log-files.ts';
import { localIngestSettings, type LocalIngestSettings } from './settings.ts';
import * as loading from './stack-load.ts';
import type { LoadSource, LoadSummary, QueryResult, Running } from './stack-load.ts';
import {
  pidAlive,
  readStackInfo,
  SNOWFLAKE_LOGIN,
  snowflakeEnv,
  STACK_FILE,
  StackError,
  WAREHOUSE_FILE,
  type StackInfo,
} from './stack-info.ts';

export { STACK_FILE, StackError, type StackInfo } from './stack-info.ts';
export { listLogFiles } from './log-files.ts';
export type { LoadSource, LoadSummary, QueryResult } from './stack-load.ts';

export interface StackOptions {
  /** 0 = any free port. */
  awsPort: number;
  snowflakePort: number;
  dataDir: string;
  logBucket?: string;
  logPrefix?: string;
  /** `pipe` (default): staged files loaded by snowflake-local's Snowpipe; `insert`: transactions. */
  loadMethod?: LoadMethod;
  /**
   * Settings of the event-source mapping and the queue; default: the deployed ones with the local
   * overrides (local/settings.ts). Tests set them to make retries and redrives quick.
   */
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

export interface Stack {
  info: StackInfo;
  aws: AwsLocal;
  /** snowflake-local; its `faults` let tests make statements fail. */
  snowflake: SnowflakeLocal;
  connections: ConnectionProvider;
  /** The ingest handler's configuration (tests build more handlers like it). */
  config: IngestConfig;
  /** The queue and event-source settings this stack runs with. */
  settings: LocalIngestSettings;
  /** The poller's totals: invocations, messages, and the most batches handled at once. */
  batches: Poller['stats'];
  /** Waits until the ingest queue is empty and, in `pipe`, every staged file is announced and handled. */
  settle(): Promise<void>;
  /** Uploads objects and waits until the pipeline has dealt with every one of them. */
  load(source: LoadSource, onProgress?: (done: number, total: number) => void): Promise<LoadSummary>;
  runQueries(dir?: string): Promise<QueryResult[]>;
  stop(): Promise<void>;
}

export const STAGING_BUCKET = 'local-access-logs-staging';
const PIPE_QUEUE = 'snowpipe-notifications';

/** Stops what the steps started, last first; every step registers its own stop. */
class Stops {
  private readonly stops: Array<() => Promise<void>> = [];
  add(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }
  /** A stop that runs after every other (the stack file goes once the stack is down). */
  last(stop: () => Promise<void>): void {
    this.stops.unshift(stop);
  }
  async all(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) await stop().catch(() => undefined);
  }
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = path.resolve(options.dataDir);
  const logBucket = options.logBucket ?? 'local-access-logs';
  const logPrefix = options.logPrefix ?? 'logs/';
  const loadMethod = options.loadMethod ?? 'pipe';
  const settings = settingsOf(options);
  prepareDataDir(dataDir);
  const stops = new Stops();
  try {
    const aws = await startAws(options, stops);
    const pipeQueue = await createStaging(aws);
    const snowflake = await startWarehouse(options, dataDir, aws, pipeQueue, stops);
    const { queueUrl, dlqUrl } = await createIngestQueue(aws, logBucket, settings);
    const config = ingestConfig(options, logBucket, logPrefix, loadMethod, snowflake);
    const logger = new Logger({ serviceName: 's3-access-logs-ingest', logLevel: config.logLevel });
    // The stack always has Snowflake credentials (queries, forced replays), whatever the load method.
    const connections = defaultConnections(config, logger)!;
    stops.add(() => connections.close());
    await applyDdl(connections, aws, path.join(dataDir, WAREHOUSE_FILE));
    const snowpipeIdle = () => snowflake.snowpipe.idle();
    const base = { aws, snowpipeIdle, connections, logBucket, logPrefix, queueUrl, dlqUrl, loadMethod };
    const run = startIngest(base, { pipeQueue, config, logger, settings, options, stops });
    const info = stackInfo({ aws, snowflake, logBucket, logPrefix, queueUrl, dlqUrl, loadMethod, dataDir });
    writeStackFile(info, stops);
    return {
      info,
      aws,
      snowflake,
      connections,
      config,
      settings,
      batches: run.poller.stats,
      settle: () => loading.settle(run),
      load: (source, onProgress) => loading.load(run, source, onProgress),
      runQueries: (dir) => loading.runQueries(connections, dir),
      stop: () => stops.all(),
    };
  } catch (err) {
    await stops.all();
    throw err;
  }
}

/** The deployed settings with the local overrides (local/settings.ts), and any the caller sets. */
function settingsOf(options: StackOptions): LocalIngestSettings {
  const settings = localIngestSettings();
  for (const key of [
    'batchSize',
    'batchingWindowMs',
    'concurrency',
    'visibilityTimeoutSeconds',
    'maxReceiveCount',
  ] as const) {
    const value = options[key];
    if (value !== undefined) settings[key] = value;
  }
  return settings;
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

/** fauxqs: S3 and SQS on one loopback port. */
async function startAws(options: StackOptions, stops: Stops): Promise<AwsLocal> {
  let aws: AwsLocal;
  try {
    aws = await startAwsLocal({ port: options.awsPort });
  } catch (err) {
    throw portError(err, '--aws-port', options.awsPort) ?? err;
  }
  stops.add(() => aws.stop());
  return aws;
}

/**
 * The staging bucket and the pipes' notification channel: the staging bucket's ObjectCreated
 * events go to this queue (bridged, as S3 would send them), and snowflake-local's Snowpipe consumes them.
 */
async function createStaging(aws: AwsLocal): Promise<LocalQueue> {
  await aws.s3.send(new CreateBucketCommand({ Bucket: STAGING_BUCKET }));
  return aws.createQueue(PIPE_QUEUE);
}

/** snowflake-local on the data dir's DuckDB file, its Snowpipe consuming `pipeQueue`. */
async function startWarehouse(
  options: StackOptions,
  dataDir: string,
  aws: AwsLocal,
  pipeQueue: LocalQueue,
  stops: Stops,
): Promise<SnowflakeLocal> {
  const dbPath = path.join(dataDir, WAREHOUSE_FILE);
  let snowflake: SnowflakeLocal;
  try {
    // Only the stack's own login is accepted (snowflake-local takes any login when no user is
    // configured): the password is no secret, but a mistyped or foreign login fails loudly.
    snowflake = await startSnowflakeLocal({
      port: options.snowflakePort,
      dbPath,
      users: [{ name: SNOWFLAKE_LOGIN.username, password: SNOWFLAKE_LOGIN.password }],
      snowpipe: snowpipeOptions(aws, pipeQueue, 50),
    });
  } catch (err) {
    throw (
      portError(err, '--snowflake-port', options.snowflakePort) ??
      new StackError(
        `cannot open the warehouse in ${dbPath}: ${reason(err)}. The data dir may be corrupt: move it away, or pass another --data-dir.`,
      )
    );
  }
  stops.add(() => snowflake.stop());
  return snowflake;
}

/** The log bucket and the ingest queue with its DLQ, as serverless.yml defines them (settings: local/settings.ts). */
async function createIngestQueue(
  aws: AwsLocal,
  logBucket: string,
  settings: LocalIngestSettings,
): Promise<{ queueUrl: string; dlqUrl: string }> {
  await aws.s3.send(new CreateBucketCommand({ Bucket: logBucket }));
  const deadLetter = await aws.createQueue('access-logs-dlq', {
    MessageRetentionPeriod: String(settings.deadLetterRetentionSeconds),
  });
  const queue = await aws.createQueue('access-logs', {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(settings.messageRetentionSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: settings.maxReceiveCount }),
  });
  return { queueUrl: queue.url, dlqUrl: deadLetter.url };
}

/** The ingest function's configuration, read by its own loader from the environment the stack gives it. */
function ingestConfig(
  options: StackOptions,
  logBucket: string,
  logPrefix: string,
  loadMethod: LoadMethod,
  snowflake: SnowflakeLocal,
): IngestConfig {
  return loadIngestConfig({
    LOG_BUCKETS: logBucket,
    LOG_PREFIXES: logPrefix,
    LOG_LEVEL: options.logLevel ?? 'ERROR',
    LOAD_METHOD: loadMethod,
    STAGING_BUCKET: STAGING_BUCKET,
    STAGING_PREFIX: INGEST_DEFAULTS.stagingPrefix,
    ...snowflakeEnv(snowflake.url),
  });
}

/**
 * The table DDL that ships (sql/01..09), not 00-setup (roles, warehouse) nor the fallback path;
 * and the pipe objects that ship (sql/pipe/), on a stage over the local staging bucket.
 */
async function applyDdl(connections: ConnectionProvider, aws: AwsLocal, dbPath: string): Promise<void> {
  try {
    const conn = await connections.get();
    await applySqlFiles(conn, tableSqlFiles());
    await applyPipeSql(conn, {
      url: stagingUrl(STAGING_BUCKET, INGEST_DEFAULTS.stagingPrefix),
      credentials: { awsKeyId: aws.credentials.accessKeyId, awsSecretKey: aws.credentials.secretAccessKey },
    });
  } catch (err) {
    throw new StackError(
      `cannot set up the warehouse in ${dbPath}: ${reason(err)}. The data dir may be corrupt: move it away, or pass another --data-dir.`,
    );
  }
}

type RunningBase = Omit<Running, 'bridge' | 'pipeBridge' | 'poller' | 'totals'>;

interface IngestParts {
  pipeQueue: LocalQueue;
  config: IngestConfig;
  logger: Logger;
  settings: LocalIngestSettings;
  options: StackOptions;
  stops: Stops;
}

/**
 * The ingest handler behind the poller (Lambda's event-source mapping, `settings.concurrency`
 * batches at once: snowflake-local queues lock waits as Snowflake does), and the two notification
 * bridges: log bucket → ingest queue, staging bucket → the pipes' queue.
 */
function startIngest(base: RunningBase, parts: IngestParts): Running {
  const { aws } = base;
  const { config, logger, settings, options, stops } = parts;
  const onError = options.onError ? { onError: options.onError } : {};
  const totals = loading.emptyTotals();
  let pipeBridge: Bridge | undefined;
  const onBatch = (s: BatchSummary) => {
    loading.addBatch(totals, s);
    // Staged files announce themselves at once, as S3's notification would.
    if (s.filesStaged > 0) pipeBridge?.kick().catch((err) => options.onError?.(err));
    options.onBatch?.(s);
  };
  const handler = createIngestHandler({ config, s3: aws.s3, connections: base.connections, logger, onBatch });
  const { batchSize, batchingWindowMs, concurrency } = settings;
  const poller = startPoller({
    sqs: aws.sqs,
    queueUrl: base.queueUrl,
    handler,
    batchSize,
    batchingWindowMs,
    concurrency,
    ...onError,
  });
  stops.add(() => poller.stop());
  const bridgeTo = (bucket: string, prefix: string, queueUrl: string): Bridge => {
    const options: BridgeOptions = {
      s3: aws.s3,
      sqs: aws.sqs,
      bucket,
      prefix,
      queueUrl,
      region: aws.region,
      ...onError,
    };
    const bridge = startBridge(options);
    stops.add(() => bridge.stop());
    return bridge;
  };
  const bridge = bridgeTo(base.logBucket, base.logPrefix, base.queueUrl);
  pipeBridge = bridgeTo(STAGING_BUCKET, INGEST_DEFAULTS.stagingPrefix, parts.pipeQueue.url);
  return { ...base, bridge, pipeBridge, poller, totals };
}

function stackInfo(parts: {
  aws: AwsLocal;
  snowflake: SnowflakeLocal;
  logBucket: string;
  logPrefix: string;
  queueUrl: string;
  dlqUrl: string;
  loadMethod: LoadMethod;
  dataDir: string;
}): StackInfo {
  const { aws, snowflake, ...rest } = parts;
  return {
    awsEndpoint: aws.endpoint,
    region: aws.region,
    snowflakeUrl: snowflake.url,
    logBucket: rest.logBucket,
    logPrefix: rest.logPrefix,
    queueUrl: rest.queueUrl,
    dlqUrl: rest.dlqUrl,
    loadMethod: rest.loadMethod,
    stagingBucket: STAGING_BUCKET,
    stagingPrefix: INGEST_DEFAULTS.stagingPrefix,
    pid: process.pid,
    dataDir: rest.dataDir,
    snowflake: {
      account: SNOWFLAKE_LOGIN.account,
      username: SNOWFLAKE_LOGIN.username,
      database: SNOWFLAKE_LOGIN.database,
      schema: SNOWFLAKE_LOGIN.schema,
    },
    startedAt: new Date().toISOString(),
  };
}

/** `<data-dir>/stack.json`, removed last on stop, and only if it is still ours. */
function writeStackFile(info: StackInfo, stops: Stops): void {
  const stackFile = path.join(info.dataDir, STACK_FILE);
  writeFileSync(stackFile, `${JSON.stringify(info, null, 2)}\n`);
  stops.last(async () => {
    // Only our own file: a newer stack may have replaced it.
    try {
      if (readStackInfo(info.dataDir)?.pid === process.pid) unlinkSync(stackFile);
    } catch {
      /* already gone */
    }
  });
}
