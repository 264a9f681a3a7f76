/**
 * What the `pipe` method stages for one source object, and under which names.
 *
 * Names are derived only from the source bucket and key (`stagedId`), so a redelivery rewrites the
 * same names, and Snowpipe, which loads a file name once per pipe (its load history), skips them.
 * Per object, under the staging prefix:
 *   parsed mode: rows/<id>.csv.gz (typed rows) and rejects/<id>.csv.gz
 *   raw mode:    raw/<id>.csv.gz (lines for s3_access_logs_staging)
 *   and LAST:    manifests/<id>.csv.gz, one record that becomes the object's ledger row.
 * Every data file is written even when empty, so the set of names is fixed; a manifest in S3
 * therefore means all of the object's files are staged.
 */
import { createHash } from 'node:crypto';
import { COLUMNS, type ParsedLine } from '../../access-log/index.ts';
import type { LoadMode } from '../../config.ts';
import { csvField, csvRecord, csvString } from './csv.ts';

/** Lowercase hex sha256 of `bucket\nkey`, first 40 characters (keys may be 1,024 bytes long). */
export function stagedId(bucket: string, key: string): string {
  return createHash('sha256').update(`${bucket}\n${key}`).digest('hex').slice(0, 40);
}

export type StagedKind = 'rows' | 'rejects' | 'raw' | 'manifests';

export const stagedKey = (prefix: string, kind: StagedKind, id: string): string => `${prefix}${kind}/${id}.csv.gz`;

export interface StagedNames {
  id: string;
  /** The data files, in the order they are written. */
  data: Array<{ kind: Exclude<StagedKind, 'manifests'>; key: string }>;
  manifest: string;
}

export function stagedNames(prefix: string, bucket: string, key: string, mode: LoadMode): StagedNames {
  const id = stagedId(bucket, key);
  const kinds = mode === 'raw' ? (['raw'] as const) : (['rows', 'rejects'] as const);
  return {
    id,
    data: kinds.map((kind) => ({ kind, key: stagedKey(prefix, kind, id) })),
    manifest: stagedKey(prefix, 'manifests', id),
  };
}

/** Columns of each staged file, in order (the pipes' COPY maps $1, $2, … onto these). */
export const STAGED_COLUMNS = {
  rows: [...COLUMNS, 'logbucket', 'logkey', 'logline'],
  rejects: ['logbucket', 'logkey', 'logline', 'reason', 'rawline'],
  raw: ['logbucket', 'logkey', 'logline', 'raw'],
  manifests: [
    'logbucket',
    'logkey',
    'etag',
    'sequencer',
    'bytes',
    'linecount',
    'rowcount',
    'rejectcount',
    'mode',
    'replayid',
    'parsems',
  ],
} as const;

/** The manifest: the object's ledger row, as `s3_access_logs_loads_pipe` loads it. */
export interface Manifest {
  bucket: string;
  key: string;
  etag?: string;
  sequencer?: string;
  bytes: number;
  lines: number;
  rows: number;
  rejects: number;
  mode: LoadMode;
  replayId?: string;
  parseMs: number;
}

export function manifestRecord(m: Manifest): string {
  return csvRecord([
    m.bucket,
    m.key,
    m.etag,
    m.sequencer,
    m.bytes,
    m.lines,
    m.rows,
    m.rejects,
    m.mode,
    m.replayId,
    Math.round(m.parseMs),
  ]);
}

/**
 * Parsed lines → CSV records of one object. `lineage` is the object's bucket and key, quoted once,
 * because every record repeats them.
 */
export class RecordWriter {
  private readonly lineage: string;
  constructor(bucket: string, key: string) {
    this.lineage = `${csvString(bucket)},${csvString(key)}`;
  }

  /** A typed row (rows file). */
  row(line: ParsedLine & { result: { ok: true } }): string {
    const row = line.result.row as unknown as Record<string, string | number | boolean | null>;
    let out = '';
    for (let i = 0; i < COLUMNS.length; i++) out += `${csvField(row[COLUMNS[i]!])},`;
    return `${out}${this.lineage},${line.line}\n`;
  }

  /** An unparseable line with its reason (rejects file). */
  reject(line: ParsedLine, reason: string): string {
    return `${this.lineage},${line.line},${csvString(reason)},${csvString(line.raw)}\n`;
  }

  /** A line verbatim (raw file). */
  raw(line: ParsedLine): string {
    return `${this.lineage},${line.line},${csvString(line.raw)}\n`;
  }
}
