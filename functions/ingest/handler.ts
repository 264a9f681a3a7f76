/**
 * The ingest Lambda: SQS batch of S3 notifications → rows in Snowflake, exactly once.
 * Thin: configuration and clients are built once per container; the work is in process-batch.ts.
 *
 * `createIngestHandler(deps)` is what tests and the local stack call, with their own S3 client and
 * Snowflake connection provider; `handler` is the Lambda entry, configured from the environment
 * (variables documented in shared/config.ts). Needs `ReportBatchItemFailures` on the event source.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadIngestConfig, type IngestConfig } from '../../shared/config.ts';
import { createConnectionProvider, execute, type ConnectionProvider } from '../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../shared/snowflake/credentials.ts';
import { createLogger, createMetrics, publishSummary, type BatchSummary } from './observability.ts';
import { LOCK_TIMEOUT_SECONDS, processBatch, type BatchDeps } from './process-batch.ts';

/** Lambda's maximum timeout. */
const MAX_INVOCATION_SECONDS = 900;

export interface IngestDeps {
  config: IngestConfig;
  s3: S3Client;
  /** Snowflake connections; absent in `pipe` without credentials (forced replays then fail). */
  connections?: ConnectionProvider;
  logger?: Logger;
  /** Omit to skip EMF output (tests); the Lambda entry always publishes. */
  metrics?: Metrics;
  /** Called with each batch's summary (tests, the local stack's progress output). */
  onBatch?: (summary: BatchSummary, response: SQSBatchResponse) => void;
  now?: () => number;
}

/** `context` is Lambda's: its remaining time keeps transactions from outliving the invocation. */
export type IngestHandler = (
  event: SQSEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<SQSBatchResponse>;

export function createIngestHandler(deps: IngestDeps): IngestHandler {
  const logger = deps.logger ?? createLogger(deps.config.logLevel);
  return async (event, context) => {
    const batchDeps: BatchDeps = { config: deps.config, s3: deps.s3, logger };
    if (deps.connections) batchDeps.connections = deps.connections;
    if (deps.now) batchDeps.now = deps.now;
    if (context) batchDeps.remainingMs = () => context.getRemainingTimeInMillis();
    const { response, summary } = await processBatch(event, batchDeps);
    logger.info('Batch done', { ...summary });
    if (deps.metrics) publishSummary(deps.metrics, summary);
    deps.onBatch?.(summary, response);
    return response;
  };
}

/**
 * Session settings for every new Snowflake connection. LOCK_TIMEOUT bounds how long a claim waits
 * behind another transaction on the ledger (default 12 h): a claim stuck behind a dead session
 * then fails, and SQS redelivers the message instead of the Lambda timing out.
 * STATEMENT_TIMEOUT_IN_SECONDS (default 2 days) is the server-side backstop of the client's
 * deadline (Session.deadline): no statement outlives the longest possible invocation, even if the
 * client's cancel request is lost. ABORT_DETACHED_QUERY: a statement still running when its
 * client is gone (a Lambda killed mid-MERGE) is aborted 5 minutes later instead of running on.
 */
export const SESSION_SETUP = [
  `ALTER SESSION SET LOCK_TIMEOUT = ${LOCK_TIMEOUT_SECONDS}`,
  `ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = ${MAX_INVOCATION_SECONDS}`,
  'ALTER SESSION SET ABORT_DETACHED_QUERY = TRUE',
];

/** A connection provider for the configured Snowflake source (none configured: undefined, `pipe` only). */
export function defaultConnections(config: IngestConfig, logger?: Logger): ConnectionProvider | undefined {
  if (!config.snowflake) return undefined;
  return createConnectionProvider(credentialsProvider(config.snowflake), {
    async onConnect(conn) {
      for (const sql of SESSION_SETUP) {
        try {
          await execute(conn, sql);
        } catch (err) {
          logger?.warn('Session setting not applied', { sql, error: (err as Error).message });
        }
      }
    },
  });
}

function fromEnvironment(): IngestHandler {
  // Throws ConfigError naming every bad variable: the cold start fails visibly, before any message is taken.
  const config = loadIngestConfig(process.env);
  const logger = createLogger(config.logLevel);
  const deps: IngestDeps = { config, s3: new S3Client({}), logger, metrics: createMetrics() };
  const connections = defaultConnections(config, logger);
  if (connections) deps.connections = connections;
  return createIngestHandler(deps);
}

// In Lambda, configuration errors surface at init; imported elsewhere (tests), nothing runs.
let lambdaHandler: IngestHandler | undefined = process.env.AWS_LAMBDA_FUNCTION_NAME ? fromEnvironment() : undefined;

export const handler: IngestHandler = async (event, context) => {
  lambdaHandler ??= fromEnvironment();
  return lambdaHandler(event, context);
};
