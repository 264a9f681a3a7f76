/**
 * Child process of load-200mb.ts and bench/ingest.ts: runs the ingest handler once against the
 * parent's fauxqs (and snowflake-local, in `insert`) and reports its own peak RSS, so the measurement covers the loader alone (the
 * emulators, which hold the object and the rows, live in the parent). The parent runs it as an
 * esbuild bundle with plain `node`, as Lambda runs the function: no tsx loader thread in the RSS.
 * Input: JSON in argv[2]. Output: one JSON line on stdout. Linux only (/proc/self/status).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { createIngestHandler } from '../../functions/ingest/handler.ts';
import type { BatchSummary } from '../../functions/ingest/observability.ts';
import { loadIngestConfig } from '../../shared/config.ts';
import { createConnectionProvider } from '../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../shared/snowflake/credentials.ts';
import { notificationBody } from './events.ts';
import type { SQSEvent } from 'aws-lambda';
import type { LoadChildInput } from './load-child-run.ts';
import { snowflakeEnv } from '../stack-info.ts';

const input = JSON.parse(process.argv[2]!) as LoadChildInput;

// The ingest function's own loader, on the environment the template would give it.
const config = loadIngestConfig({
  LOG_BUCKETS: input.object.bucket,
  LOG_LEVEL: 'SILENT',
  LOAD_METHOD: input.staging ? 'pipe' : 'insert',
  INSERT_CHUNK_ROWS: process.env.LOAD_TEST_CHUNK_ROWS,
  ...(input.staging ? { STAGING_BUCKET: input.staging.bucket, STAGING_PREFIX: input.staging.prefix } : {}),
  ...(input.snowflakeUrl ? snowflakeEnv(input.snowflakeUrl) : {}),
});
const s3 = new S3Client({
  endpoint: input.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const connections = config.snowflake ? createConnectionProvider(credentialsProvider(config.snowflake)) : undefined;
let summary: BatchSummary | undefined;
const logLevel = (process.env.LOAD_TEST_LOG_LEVEL ?? 'SILENT') as 'SILENT';
const handle = createIngestHandler({
  config,
  s3,
  ...(connections ? { connections } : {}),
  logger: new Logger({ logLevel }),
  onBatch: (s) => (summary = s),
});

// Peak of each memory figure, sampled, to tell heap from buffers when RSS is high.
const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
const rssTimeline: number[] = []; // MB, every 5 s
const started = Date.now();
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peak) as Array<keyof typeof peak>)
    peak[k] = Math.max(peak[k], Math.round(m[k] / 1048576));
  const slot = Math.floor((Date.now() - started) / 5000);
  rssTimeline[slot] = Math.max(rssTimeline[slot] ?? 0, Math.round(m.rss / 1048576));
}, 50);
const rssAtStartMb = Math.round(process.memoryUsage().rss / 1048576);
const t0 = performance.now();
const event = { Records: [{ messageId: 'load-1', body: notificationBody([input.object]) }] } as SQSEvent;
const response = await handle(event);
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
// The peak RSS of this process image: VmHWM. (getrusage's maxRSS is no good here: Linux carries it
// across fork+exec, so it reports the parent's RSS at spawn time, emulators and 200 MB object included.)
const vmHwmMb = Math.round(
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024,
);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const retainedHeapMb = gc ? Math.round(process.memoryUsage().heapUsed / 1048576) : undefined;
await connections?.close();
process.stdout.write(
  `${JSON.stringify({
    response,
    summary,
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    vmHwmMb,
    peakMb: peak,
    retainedHeapMb,
    rssAtStartMb,
    rssTimeline,
  })}\n`,
);
process.exit(0);
