/**
 * The reading stage of a batch: an S3 object → its parsed lines, whatever its format (text, NDJSON,
 * Parquet; see shared/access-log/formats), with what the formats add to the batch's
 * observability: records of an unknown schema_version_id are loaded all the same, counted in the
 * summary (metric `UnknownSchemaVersionRecords`) and named in one warning per object.
 *
 * Reading is lazy: `open` only sends GetObject; the body is read as the caller iterates `lines`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Readable } from 'node:stream';
import type { ParsedLine } from '../../shared/access-log/index.ts';
import { KNOWN_SCHEMA_VERSIONS, readLogRecords, SchemaVersionTally } from '../../shared/access-log/formats/index.ts';
import type { LoadMode } from '../../shared/config.ts';
import { openObject } from '../../shared/s3/objects.ts';
import type { LoadTarget } from '../../shared/snowflake/loader.ts';
import type { BatchSummary } from './observability.ts';

/** An object opened for reading, or why it cannot be read (skipped, not failed: see outcomes.ts). */
export type OpenedLines =
  /** Deleted since the event. */
  | { kind: 'missing' }
  /** Its ETag no longer matches the event's: the key's own newer event loads it. */
  | { kind: 'changed'; message: string }
  | {
      kind: 'ok';
      /** Stored bytes, when S3 says. */
      contentLength?: number;
      /** Parsed lines, read from the body as they are iterated (once). */
      lines: AsyncIterable<ParsedLine>;
      /** Source bytes read so far. */
      bytes(): number;
      /** Stops the body (an object moved from buffering to streaming, or a stream that ended early). */
      destroy(): void;
    };

/** Opens one object's lines; the reading stage as the other stages see it (tests pass their own). */
export type LineSource = (target: LoadTarget) => Promise<OpenedLines>;

/**
 * The body's bytes, counted. A body that ends before its Content-Length is an error of the
 * source (a connection cut without a socket error): it must fail the read, so the message is
 * retried, and never pass for a truncated gzip, which is recorded as a reject and acknowledged.
 */
export async function* counted(
  body: AsyncIterable<Uint8Array>,
  counter: { bytes: number },
  contentLength?: number,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    counter.bytes += chunk.length;
    yield chunk;
  }
  if (contentLength !== undefined && counter.bytes < contentLength)
    throw new Error(
      `The S3 body ended after ${counter.bytes} of its ${contentLength} bytes; the message will be retried.`,
    );
}

/** Objects in S3 (GetObject with the event's ETag) → their lines. */
export function s3LineSource(s3: S3Client, loadMode: LoadMode, logger: Logger, summary: BatchSummary): LineSource {
  return async (target) => {
    const opened = await openObject(s3, target);
    if (opened.kind !== 'ok') return opened;
    const body: Readable = opened.body;
    const counter = { bytes: 0 };
    const bytes = counted(body as AsyncIterable<Uint8Array>, counter, opened.contentLength);
    const result: OpenedLines = {
      kind: 'ok',
      lines: objectLines(bytes, target, loadMode, logger, summary),
      bytes: () => counter.bytes,
      destroy: () => body.destroy(),
    };
    if (opened.contentLength !== undefined) result.contentLength = opened.contentLength;
    return result;
  };
}

export async function* objectLines(
  bytes: AsyncIterable<Uint8Array>,
  object: { bucket: string; key: string },
  loadMode: LoadMode,
  logger: Logger,
  summary: BatchSummary,
): AsyncGenerator<ParsedLine> {
  const tally = new SchemaVersionTally();
  let format = 'text';
  // Raw mode feeds the fallback path, whose UDTF parses the text format only: records go on as text lines.
  yield* readLogRecords(bytes, {
    observer: tally,
    rawAs: loadMode === 'raw' ? 'text' : 'record',
    onFormat: (f) => (format = f),
  });
  // Only reached when the object was read to its end (an object moved to streaming is counted there).
  if (tally.total === 0) return;
  summary.unknownSchemaVersionRecords += tally.total;
  logger.warn(
    'Loaded records of an unknown schema_version_id with the fields docs/formats.md maps (the others are in extrafields); check that mapping against the new schema',
    {
      bucket: object.bucket,
      key: object.key,
      format,
      versions: Object.fromEntries(tally.counts),
      known: [...KNOWN_SCHEMA_VERSIONS],
    },
  );
}
