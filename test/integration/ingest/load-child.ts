/**
 * Child process of load-200mb.ts: runs the ingest handler once against the parent's fauxqs and
 * snowflake-local and reports its own peak RSS, so the measurement covers the loader alone (the
 * emulators, which hold the object and the rows, live in the parent).
 * Input: JSON in argv[2]. Output: one JSON line on stdout.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { createIngestHandler } from '../../../functions/ingest/handler.ts';
import type { BatchSummary } from '../../../functions/ingest/observability.ts';
import { INGEST_DEFAULTS, type IngestConfig } from '../../../shared/config.ts';
import { createConnectionProvider } from '../../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../../shared/snowflake/credentials.ts';
import { eventFor } from './fixtures.ts';

const input = JSON.parse(process.argv[2]!) as {
  endpoint: string;
  snowflakeUrl: string;
  object: { bucket: string; key: string; size: number; etag: string };
};

const config: IngestConfig = {
  logBuckets: [input.object.bucket],
  logPrefixes: [],
  snowflake: {
    kind: 'env',
    credentials: { account: 'local', username: 'local', password: 'local', database: 'S3_ACCESS_LOGS', schema: 'PUBLIC', accessUrl: input.snowflakeUrl },
  },
  insertChunkRows: INGEST_DEFAULTS.insertChunkRows,
  memoryBudgetBytes: INGEST_DEFAULTS.memoryBudgetMb << 20,
  logLevel: 'SILENT',
  loadMode: 'parsed',
};
const s3 = new S3Client({ endpoint: input.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const connections = createConnectionProvider(credentialsProvider(config.snowflake));
let summary: BatchSummary | undefined;
const handle = createIngestHandler({ config, s3, connections, logger: new Logger({ logLevel: 'SILENT' }), onBatch: (s) => (summary = s) });

const t0 = performance.now();
const response = await handle(eventFor([input.object]));
const seconds = (performance.now() - t0) / 1000;
await connections.close();
process.stdout.write(
  JSON.stringify({ response, summary, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n',
);
process.exit(0);
