/**
 * Logs and metrics of the ingest Lambda: Powertools Logger (JSON lines) and Metrics (CloudWatch
 * EMF, written to stdout and turned into metrics by CloudWatch Logs; no API calls).
 *
 * Metric names (namespace `S3AccessLogs` unless POWERTOOLS_METRICS_NAMESPACE says otherwise):
 *   ObjectsLoaded, Rows, Rejects, Bytes            per batch, Count/Bytes
 *   ObjectsSkipped{reason}                         duplicate | missing | changed | not-allowed
 *   ObjectsFailed, MessagesFailed                  Count
 *   ObjectsOverwritten                             Count: keys whose bytes differ from the version loaded (pipe: manifest ETag; insert: ledger ETag; failed loudly)
 *   FilesStaged                                    Count: staged files written for Snowpipe (pipe)
 *   BatchDuration                                  Milliseconds
 *   DeliveryLag                                    Seconds: now − newest requestdatetime loaded in the batch
 *   SnowflakeRoundTrips                            Count per batch
 *   UnknownSchemaVersionRecords                    Count: vended JSON/Parquet records of a schema_version_id not in docs/formats.md (loaded)
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { LogLevel } from '../../shared/config.ts';

export const SERVICE = 's3-access-logs-ingest';
export const NAMESPACE = 'S3AccessLogs';

export type SkipReason = 'duplicate' | 'missing' | 'changed' | 'not-allowed';

/** What one batch did; logged, published as metrics and handed to `onBatch` (tests, local stack). */
export interface BatchSummary {
  messages: number;
  failedMessages: number;
  objectsLoaded: number;
  skipped: Record<SkipReason, number>;
  objectsFailed: number;
  /** Of the failed, objects whose key now holds other bytes than the version loaded (both methods). */
  objectsOverwritten: number;
  /** Staged files written (pipe: rows/rejects or raw, and the manifest, per object). */
  filesStaged: number;
  /** Of the duplicates, those found by the claim itself (a concurrent delivery won), not the look-up. */
  claimsLost: number;
  rows: number;
  rejects: number;
  bytes: number;
  /** Transactions committed (one for the buffered batch, one per streamed object). */
  transactions: number;
  /** Snowflake statements sent, including connection validation. */
  roundTrips: number;
  durationMs: number;
  /** Seconds; undefined when nothing was loaded. */
  deliveryLagSeconds?: number;
  /** Vended-format records whose schema_version_id the mapping does not know (loaded all the same). */
  unknownSchemaVersionRecords: number;
}

export function emptySummary(messages: number): BatchSummary {
  return {
    messages,
    failedMessages: 0,
    objectsLoaded: 0,
    skipped: { duplicate: 0, missing: 0, changed: 0, 'not-allowed': 0 },
    objectsFailed: 0,
    objectsOverwritten: 0,
    filesStaged: 0,
    claimsLost: 0,
    rows: 0,
    rejects: 0,
    bytes: 0,
    transactions: 0,
    roundTrips: 0,
    durationMs: 0,
    unknownSchemaVersionRecords: 0,
  };
}

export function createLogger(level: LogLevel): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE, logLevel: level });
}

export function createMetrics(): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE,
  });
}

export function publishSummary(metrics: Metrics, s: BatchSummary): void {
  metrics.addMetric('ObjectsLoaded', MetricUnit.Count, s.objectsLoaded);
  metrics.addMetric('Rows', MetricUnit.Count, s.rows);
  metrics.addMetric('Rejects', MetricUnit.Count, s.rejects);
  metrics.addMetric('Bytes', MetricUnit.Bytes, s.bytes);
  metrics.addMetric('ObjectsFailed', MetricUnit.Count, s.objectsFailed);
  metrics.addMetric('MessagesFailed', MetricUnit.Count, s.failedMessages);
  metrics.addMetric('ObjectsOverwritten', MetricUnit.Count, s.objectsOverwritten);
  metrics.addMetric('FilesStaged', MetricUnit.Count, s.filesStaged);
  metrics.addMetric('BatchDuration', MetricUnit.Milliseconds, s.durationMs);
  metrics.addMetric('SnowflakeRoundTrips', MetricUnit.Count, s.roundTrips);
  if (s.deliveryLagSeconds !== undefined) metrics.addMetric('DeliveryLag', MetricUnit.Seconds, s.deliveryLagSeconds);
  if (s.unknownSchemaVersionRecords > 0)
    metrics.addMetric('UnknownSchemaVersionRecords', MetricUnit.Count, s.unknownSchemaVersionRecords);
  metrics.publishStoredMetrics();
  for (const [reason, n] of Object.entries(s.skipped)) {
    if (n === 0) continue;
    const single = metrics.singleMetric();
    single.addDimension('reason', reason);
    single.addMetric('ObjectsSkipped', MetricUnit.Count, n);
  }
}
