/**
 * Child process of memory-budget.test.ts: runs processBatch once over the parent's fauxqs objects
 * under the heap limit the parent starts it with (`--max-old-space-size`), with a sink that builds
 * every line's bind array as the insert sink does and keeps only counts. What is measured is the
 * batch logic's own memory: buffering, the budget, spilling to streams. A crash (heap exhausted)
 * is the failure the test looks for. Output: one JSON line on stdout.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent } from 'aws-lambda';
import { processBatch } from '../../../functions/ingest/process-batch.ts';
import { INGEST_DEFAULTS, type IngestConfig } from '../../../shared/config.ts';
import { notificationBody } from '../../../local/harness/events.ts';
import { RowBuilder, type ObjectCounts } from '../../../shared/snowflake/loader.ts';
import type { Sink } from '../../../shared/snowflake/sink.ts';

const input = JSON.parse(process.argv[2]!) as {
  endpoint: string;
  bucket: string;
  objects: Array<{ key: string; size: number; etag: string }>;
};

const config: IngestConfig = {
  logBuckets: [input.bucket],
  logPrefixes: [],
  snowflake: { kind: 'env', credentials: { account: 'a', username: 'u', password: 'p', database: 'D', schema: 'S' } },
  insertChunkRows: INGEST_DEFAULTS.insertChunkRows,
  memoryBudgetBytes: INGEST_DEFAULTS.memoryBudgetMb << 20,
  logLevel: 'SILENT',
  loadMode: 'parsed',
  loadMethod: 'insert',
};
const s3 = new S3Client({
  endpoint: input.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

const counts = new Map<string, ObjectCounts & { how: 'buffered' | 'streamed' }>();
let peakHeapMb = 0;
const sampler = setInterval(() => (peakHeapMb = Math.max(peakHeapMb, process.memoryUsage().heapUsed / 1048576)), 20);

const sink: Sink = {
  method: 'insert',
  buffers: true,
  streamConcurrency: 1,
  async open() {},
  async check() {
    return new Map();
  },
  async loadBuffered(objects) {
    for (const o of objects) counts.set(o.target.key, { ...o.counts, how: 'buffered' });
    return new Map(objects.map((o) => [`${o.target.bucket}\u0000${o.target.key}`, 'loaded' as const]));
  },
  async loadStreamed(target, lines, bytes) {
    // As the insert sink: a chunk of bind arrays at a time.
    const builder = new RowBuilder(target, 'parsed', new Date().toISOString());
    let chunk: unknown[] = [];
    for await (const line of lines) {
      chunk.push(builder.add(line).bind);
      if (chunk.length >= config.insertChunkRows) chunk = [];
    }
    builder.counts.bytes = bytes();
    counts.set(target.key, { ...builder.counts, how: 'streamed' });
    return { result: 'loaded', counts: builder.counts };
  },
  cannotStart: () => undefined,
  stats: () => ({ roundTrips: 0, transactions: 0, filesStaged: 0 }),
  async close() {
    return undefined;
  },
};

const event = {
  Records: input.objects.map((o, i) => ({
    messageId: `m${i}`,
    body: notificationBody([{ bucket: input.bucket, ...o }]),
  })),
} as SQSEvent;
const { response } = await processBatch(event, {
  config,
  s3,
  logger: new Logger({ logLevel: 'SILENT' }),
  sink: () => sink,
});
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({ response, counts: Object.fromEntries(counts), peakHeapMb: Math.round(peakHeapMb) })}\n`,
);
process.exit(0);
