/**
 * One soak loader: a child process the harness kills with SIGKILL at random moments. It runs the
 * local poller (Lambda's event-source mapping, `concurrency` batches at once) with the real ingest
 * handler against the parent's fauxqs and snowflake-local, and injects S3 faults into its own S3
 * client: 500s, bodies that fail mid-stream, bodies that end early without an error. Each injected
 * fault is appended to the fault log as it happens, so a kill loses none of the counts.
 * Input: JSON in argv[2].
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { appendFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createIngestHandler, defaultConnections } from '../../../functions/ingest/handler.ts';
import { loadIngestConfig } from '../../../shared/config.ts';
import { startPoller } from '../../poller.ts';
import { Prng } from '../../sample/prng.ts';
import { snowflakeEnv } from '../../stack-info.ts';

/** What the harness passes in argv[2], as JSON. */
export interface WorkerInput {
  endpoint: string;
  snowflakeUrl: string;
  queueUrl: string;
  bucket: string;
  faultLog: string;
  seed: number;
  /** Probability per GetObject of each S3 fault. */
  s3FaultRate: number;
  concurrency: number;
  /** The "Lambda timeout" each invocation gets (its deadline). */
  invocationMs: number;
  method: 'insert' | 'pipe';
  staging: { bucket: string; prefix: string };
}

const input = JSON.parse(process.argv[2]!) as WorkerInput;

const prng = new Prng(input.seed);
const note = (kind: string) => appendFileSync(input.faultLog, `${kind}\n`);
const aws = {
  endpoint: input.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
};
const s3 = new S3Client({ ...aws, forcePathStyle: true });

/** A body that yields `keep` bytes, then fails (`error`) or just ends (`short`). */
function cut(body: Readable, keep: number, how: 'error' | 'short'): Readable {
  async function* gen(): AsyncGenerator<Uint8Array> {
    let sent = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      const room = keep - sent;
      if (chunk.length >= room) {
        if (room > 0) yield chunk.subarray(0, room);
        body.destroy();
        if (how === 'error')
          throw Object.assign(new Error('socket hang up (injected by the soak)'), { code: 'ECONNRESET' });
        return;
      }
      sent += chunk.length;
      yield chunk;
    }
  }
  return Readable.from(gen(), { objectMode: false });
}

s3.middlewareStack.add(
  (next, context) => async (args) => {
    if (context.commandName !== 'GetObjectCommand' || !prng.chance(input.s3FaultRate)) return next(args);
    const kind = prng.pick(['s3_500', 's3_cut_error', 's3_cut_short'] as const);
    note(kind);
    if (kind === 's3_500') {
      throw Object.assign(new Error('We encountered an internal error. Please try again. (injected by the soak)'), {
        name: 'InternalError',
        $metadata: { httpStatusCode: 500 },
      });
    }
    const out = await next(args);
    const res = out.output as { Body?: Readable; ContentLength?: number };
    if (res.Body && (res.ContentLength ?? 0) > 1)
      res.Body = cut(res.Body, prng.int(1, res.ContentLength! - 1), kind === 's3_cut_error' ? 'error' : 'short');
    return out;
  },
  { step: 'initialize', name: 'soakFaults' },
);

// The ingest function's own loader, on the environment the template would give it.
const config = loadIngestConfig({
  LOG_BUCKETS: input.bucket,
  LOG_LEVEL: 'SILENT',
  LOAD_METHOD: input.method,
  INSERT_CHUNK_ROWS: '500',
  ...(input.method === 'pipe' ? { STAGING_BUCKET: input.staging.bucket, STAGING_PREFIX: input.staging.prefix } : {}),
  ...snowflakeEnv(input.snowflakeUrl),
});
const logger = new Logger({ logLevel: (process.env.SOAK_LOG_LEVEL ?? 'SILENT') as 'SILENT' });
const handle = createIngestHandler({ config, s3, connections: defaultConnections(config, logger), logger });
startPoller({
  sqs: new SQSClient(aws),
  queueUrl: input.queueUrl,
  batchSize: 10,
  batchingWindowMs: 200,
  concurrency: input.concurrency,
  waitTimeSeconds: 1,
  handler: (event) => {
    const ends = Date.now() + input.invocationMs;
    return handle(event, { getRemainingTimeInMillis: () => ends - Date.now() });
  },
});
process.stdout.write('ready\n');
