/**
 * The generated sample, written the way CloudWatch Logs vended delivery writes S3 access logs to a
 * bucket: newline-delimited JSON records (gzip) or Parquet, one object per sample object, with the
 * same requests as the text objects. The only difference in content is the one the formats have:
 * `request_time` carries milliseconds (deterministic, from the line number), text has seconds.
 *
 * A planted malformed text line becomes a record that cannot be mapped: in JSON the line itself
 * (not JSON: a `bad_json` reject), in Parquet a row without `request_time`. So every format yields
 * the same rows and the same number of rejects.
 */
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import type { AccessLogRow } from '../../shared/access-log/columns.ts';
import { FIELD_COLUMNS } from '../../shared/access-log/formats/index.ts';
import type { SampleFormat } from './formats.ts';
import type { Sample, SampleObject } from './generate.ts';

/** Milliseconds added to a line's request time in the JSON and Parquet copies: never 0, so tests see them. */
export const sampleMillis = (lineIndex: number): number => ((lineIndex * 137) % 999) + 1;

/** The row → the record vended delivery writes for it (field names: docs/formats.md). */
export function vendedRecord(row: AccessLogRow, millis: number): Record<string, unknown> {
  const record: Record<string, unknown> = {
    schema_version_id: 'V_1_0',
    bucket_arn: `arn:aws:s3:::${row.bucket_name}`,
  };
  for (const [field, column] of FIELD_COLUMNS) record[field] = row[column];
  record.request_time = row.requestdatetime.replace(/Z$/, `.${String(millis).padStart(3, '0')}Z`);
  return record;
}

function records(object: SampleObject): Array<Record<string, unknown> | string> {
  return object.lines.map((l, i) => (l.row ? vendedRecord(l.row, sampleMillis(i)) : l.raw));
}

export function toNdjson(object: SampleObject): Buffer {
  const text = records(object)
    .map((r) => (typeof r === 'string' ? r : JSON.stringify(r)))
    .join('\n');
  return gzipSync(`${text}\n`);
}

const INT_FIELDS = new Set(['http_status', 'bytes_sent', 'object_size', 'total_time', 'turn_around_time']);

export function toParquet(object: SampleObject, rowGroupSize = 10_000): Buffer {
  const rows = records(object).map((r) => (typeof r === 'string' ? { schema_version_id: 'V_1_0' } : r));
  const fields = ['schema_version_id', 'bucket_arn', ...FIELD_COLUMNS.map(([f]) => f)];
  const columnData: ColumnSource[] = fields.map((name) => {
    const values = rows.map((r) => (r as Record<string, unknown>)[name] ?? null);
    if (INT_FIELDS.has(name))
      return {
        name,
        type: 'INT64',
        nullable: true,
        data: values.map((v) => (v === null ? null : BigInt(v as number))),
      };
    if (name === 'acl_required') return { name, type: 'BOOLEAN', nullable: true, data: values };
    return { name, type: 'STRING', nullable: true, data: values };
  });
  return Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize }));
}

/** `…/YYYY/MM/DD/HH/` of the text key's delivery time: the date folders vended delivery writes. */
function vendedKey(object: SampleObject, prefix: string, ext: string): string {
  const name = object.key.slice(object.key.lastIndexOf('/') + 1);
  const m = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-/.exec(name);
  const folders = m ? `${m[1]}/${m[2]}/${m[3]}/${m[4]}/` : '';
  return `${prefix}AWSLogs/111122223333/S3ServerAccessLogs/us-east-1/${folders}${name}${ext}`;
}

/** The sample's objects in one format: keys and bodies ready to upload or write to disk. */
export function sampleObjects(
  sample: Sample,
  format: SampleFormat,
  prefix: string,
): Array<{ key: string; body: Buffer | string }> {
  return sample.objects.map((o) => {
    if (format === 'text') return { key: o.key, body: o.body };
    if (format === 'json') return { key: vendedKey(o, prefix, '.json.gz'), body: toNdjson(o) };
    return { key: vendedKey(o, prefix, '.parquet'), body: toParquet(o) };
  });
}
