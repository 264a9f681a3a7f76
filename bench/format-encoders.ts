/**
 * The three candidate staged-file formats of the `pipe` load method (PIPE-CONTRACT.md), each as
 * one function from an object's typed rows to the bytes the Lambda would PUT. Kept apart from
 * bench/formats.ts so that esbuild can bundle each encoder alone and tell what it adds to the
 * ingest Lambda. The CSV dialect is the contract's: no header, NULL = empty unquoted field,
 * every non-null string quoted with inner quotes doubled, integers bare, booleans TRUE/FALSE.
 */
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { COLUMNS, type AccessLogRow } from '../shared/access-log/columns.ts';

/** A typed row with its lineage: the rows-file record of one log line. */
export interface StagedRow {
  row: AccessLogRow;
  logbucket: string;
  logkey: string;
  logline: number;
}

export const STAGED_COLUMNS = [...COLUMNS, 'logbucket', 'logkey', 'logline'] as const;

const REQUIRED = new Set(['bucketowner', 'bucket_name', 'requestdatetime', 'logbucket', 'logkey', 'logline']);
const INTEGER = new Set(['httpstatus', 'bytessent', 'objectsize', 'totaltime', 'turnaroundtime', 'logline']);

function csvField(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v === 'string') return `"${v.replaceAll('"', '""')}"`;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return String(v);
}

/** The uncompressed CSV text (what Snowpipe bills for a text format). */
export function csvText(rows: StagedRow[]): string {
  let out = '';
  for (const r of rows) {
    const row = r.row as unknown as Record<string, string | number | boolean | null>;
    let line = '';
    for (const c of COLUMNS) line += `${csvField(row[c]!)},`;
    out += `${line}${csvField(r.logbucket)},${csvField(r.logkey)},${r.logline}\n`;
  }
  return out;
}

/** One JSON object per line, named fields (what COPY … MATCH_BY_COLUMN_NAME reads). */
export function ndjsonText(rows: StagedRow[]): string {
  let out = '';
  for (const r of rows)
    out += `${JSON.stringify({ ...r.row, logbucket: r.logbucket, logkey: r.logkey, logline: r.logline })}\n`;
  return out;
}

export const gzipCsv = (rows: StagedRow[]) => {
  const text = Buffer.from(csvText(rows));
  return { bytes: gzipSync(text), uncompressed: text.length };
};

export const gzipNdjson = (rows: StagedRow[]) => {
  const text = Buffer.from(ndjsonText(rows));
  return { bytes: gzipSync(text), uncompressed: text.length };
};

/**
 * Parquet with hyparquet-writer: strings UTF8, integers INT64, the timestamp as INT64 millis with
 * the TIMESTAMP(isAdjustedToUTC=true, MILLIS) logical type (an instant, like TIMESTAMP_TZ),
 * aclrequired BOOLEAN. `codec` SNAPPY is the library's default; GZIP goes through node:zlib.
 */
export function parquet(rows: StagedRow[], codec: 'SNAPPY' | 'GZIP' = 'SNAPPY') {
  const value = (r: StagedRow, name: (typeof STAGED_COLUMNS)[number]) => {
    // INT64 columns take bigints (the library's dictionary pages insist).
    if (name === 'logline') return BigInt(r.logline);
    if (name === 'logbucket' || name === 'logkey') return r[name];
    if (name === 'requestdatetime') return BigInt(Date.parse(r.row.requestdatetime));
    const v = r.row[name];
    return INTEGER.has(name) && v !== null ? BigInt(v as number) : v;
  };
  const columnData = STAGED_COLUMNS.map((name) => ({ name, data: rows.map((r) => value(r, name)) }));
  const schema = [
    { name: 'root', num_children: STAGED_COLUMNS.length },
    ...STAGED_COLUMNS.map((name) => {
      const repetition_type = REQUIRED.has(name) ? ('REQUIRED' as const) : ('OPTIONAL' as const);
      if (name === 'requestdatetime') {
        return {
          name,
          type: 'INT64' as const,
          repetition_type,
          logical_type: { type: 'TIMESTAMP' as const, isAdjustedToUTC: true, unit: 'MILLIS' as const },
        };
      }
      if (INTEGER.has(name)) return { name, type: 'INT64' as const, repetition_type };
      if (name === 'aclrequired') return { name, type: 'BOOLEAN' as const, repetition_type };
      return { name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type };
    }),
  ];
  const buf = parquetWriteBuffer({
    columnData,
    schema,
    codec,
    ...(codec === 'GZIP' ? { compressors: { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)) } } : {}),
  });
  const bytes = Buffer.from(buf);
  return { bytes, uncompressed: bytes.length };
}
