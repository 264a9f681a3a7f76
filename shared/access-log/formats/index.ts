/**
 * Any log object → numbered ParsedLines, whatever its format: the space-delimited text S3 writes to
 * a bucket (plain or gzip), or the records of S3 access logs vended through CloudWatch Logs, as
 * newline-delimited JSON (plain or gzip) or Parquet. The format is detected per object from its
 * first bytes (detect.ts). Every consumer of log lines (both load methods, the fallback path's
 * staging rows, `parse`) reads through this one function, so they accept the same inputs.
 */
import type { ParsedLine } from '../columns.ts';
import { readLogLineBatches, readLogLines } from '../read-lines.ts';
import { sniff, type ByteSource, type LogFormat } from './detect.ts';
import { readNdjson } from './ndjson.ts';
import type { RecordObserver } from './observer.ts';
import { readParquet } from './parquet.ts';

export { sniff, type LogFormat } from './detect.ts';
export { SchemaVersionTally, type RecordObserver } from './observer.ts';
export { FIELD_COLUMNS, KNOWN_SCHEMA_VERSIONS } from './vended-record.ts';

export interface ReadOptions {
  /** Told about records of an unknown schema version (loaded all the same). */
  observer?: RecordObserver;
  /**
   * `text`: a JSON record that maps to a row is handed on as the equivalent text log line
   * (formatLine), not as its JSON line. The fallback path's staging table wants that: its UDTF parses
   * the text format only. (A Parquet row that maps is always handed on as its text line; rejects of
   * either format keep the record's JSON.) Default `record`.
   */
  rawAs?: 'record' | 'text';
  /** Told the detected format before the first line. */
  onFormat?: (format: LogFormat) => void;
}

export async function* readLogRecords(source: ByteSource, options: ReadOptions = {}): AsyncGenerator<ParsedLine> {
  const { format, gzip, bytes } = await sniff(source);
  options.onFormat?.(format);
  const asText = options.rawAs === 'text';
  if (format === 'parquet') yield* readParquet(bytes, options.observer);
  else if (format === 'ndjson') yield* readNdjson(bytes, gzip, options.observer, asText);
  else yield* readLogLines(bytes);
}

/**
 * readLogRecords in arrays (one per chunk of text, up to 512 records of JSON or Parquet), for
 * consumers that handle lines in bulk (`parse`): one await per array instead of one per line. An
 * array is only valid until the next one is asked for.
 */
export async function* readLogRecordBatches(
  source: ByteSource,
  options: ReadOptions = {},
): AsyncGenerator<ParsedLine[]> {
  const { format, gzip, bytes } = await sniff(source);
  options.onFormat?.(format);
  if (format === 'text') {
    yield* readLogLineBatches(bytes);
    return;
  }
  const records =
    format === 'parquet'
      ? readParquet(bytes, options.observer)
      : readNdjson(bytes, gzip, options.observer, options.rawAs === 'text');
  let batch: ParsedLine[] = [];
  for await (const r of records) {
    batch.push(r);
    if (batch.length === 512) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
