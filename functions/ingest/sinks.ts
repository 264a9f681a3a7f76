/**
 * The configured load method → the sink one batch writes through (shared/snowflake/sink.ts).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { IngestConfig } from '../../shared/config.ts';
import type { ConnectionProvider } from '../../shared/snowflake/connection.ts';
import { InsertSink } from '../../shared/snowflake/insert-sink.ts';
import { PipeSink, type PipeSinkOptions } from '../../shared/snowflake/pipe/sink.ts';
import type { Sink } from '../../shared/snowflake/sink.ts';

/** What a sink may use, per batch. */
export interface SinkContext {
  config: IngestConfig;
  s3: S3Client;
  connections?: ConnectionProvider;
  /** The batch's load time (`loadedat` of the rows `insert` writes). */
  loadedAt: string;
  /** Milliseconds until the Lambda times out; absent = no limit. */
  remainingMs?: () => number;
}

function insertSink(c: SinkContext): InsertSink {
  if (!c.connections) throw new Error('The insert load method needs Snowflake connections; none were configured.');
  const options: ConstructorParameters<typeof InsertSink>[0] = {
    connections: c.connections,
    mode: c.config.loadMode,
    chunkRows: c.config.insertChunkRows,
    loadedAt: c.loadedAt,
  };
  if (c.remainingMs) options.remainingMs = c.remainingMs;
  return new InsertSink(options);
}

export function createSink(c: SinkContext): Sink {
  const { config } = c;
  if (config.loadMethod === 'insert') return insertSink(c);
  if (!config.staging)
    throw new Error('The pipe load method needs a staging location (STAGING_BUCKET); none was configured.');
  const options: PipeSinkOptions = { s3: c.s3, staging: config.staging, mode: config.loadMode };
  // Forced replays replace rows, which only a transaction can do: through insert, when configured.
  if (c.connections) options.forced = () => insertSink(c);
  if (c.remainingMs) options.remainingMs = c.remainingMs;
  return new PipeSink(options);
}
