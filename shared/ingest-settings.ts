/**
 * The ingest function's queue and event-source settings, defined once in ingest-settings.json
 * (JSON, so that serverless.yml reads the same numbers with `${file(...)}` and TypeScript imports
 * them). The deployed template and the local stack (local/settings.ts) both take them from here;
 * where a local run departs from them, local/settings.ts names the override and says why.
 *
 * - `functionTimeoutSeconds` (300): above the ingest sessions' Snowflake LOCK_TIMEOUT (120 s,
 *   functions/ingest/handler.ts), so a claim waiting on a lock fails and is retried per object
 *   instead of timing the whole batch out; and room to stream a large log object.
 * - `queue.visibilityTimeoutSeconds` (2,100): AWS advises at least 6x the function timeout plus the
 *   batching window (up to 300 s), so a message is not redelivered while a throttled or retried
 *   invocation still holds it: 6 x 300 + 300.
 * - `queue.maxReceiveCount` (5): receives before SQS moves a message to the DLQ.
 * - `queue.messageRetentionSeconds` (4 days) and `deadLetterRetentionSeconds` (14 days, the
 *   maximum): a standard queue keeps a message's original enqueue time in its DLQ, so the DLQ must
 *   keep messages longer than the source queue does.
 * - `eventSource.batchSize` (10), `batchingWindowSeconds` (5), `maximumConcurrency` (5): the
 *   defaults of the deploy parameters batchSize, batchingWindow and maxConcurrency (README
 *   "Deploy"); the concurrency bounds the Snowflake sessions the ingest opens at once.
 */
import settings from './ingest-settings.json' with { type: 'json' };

export interface IngestSettings {
  functionTimeoutSeconds: number;
  queue: {
    visibilityTimeoutSeconds: number;
    maxReceiveCount: number;
    messageRetentionSeconds: number;
    deadLetterRetentionSeconds: number;
  };
  eventSource: {
    batchSize: number;
    batchingWindowSeconds: number;
    maximumConcurrency: number;
  };
}

export const INGEST_SETTINGS: Readonly<IngestSettings> = settings;
