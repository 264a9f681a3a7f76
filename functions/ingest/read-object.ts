/**
 * An object's bytes → its parsed lines, whatever its format (text, NDJSON, Parquet; see
 * shared/access-log/formats), with what the formats add to the batch's observability: records of
 * an unknown schema_version_id are loaded all the same, counted in the summary (metric
 * `UnknownSchemaVersionRecords`) and named in one warning per object.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ParsedLine } from '../../shared/access-log/index.ts';
import { KNOWN_SCHEMA_VERSIONS, readLogRecords, SchemaVersionTally } from '../../shared/access-log/formats/index.ts';
import type { LoadMode } from '../../shared/config.ts';
import type { BatchSummary } from './observability.ts';

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
