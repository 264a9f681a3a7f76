/**
 * COPY of one staged file into its pipe's table, with Snowpipe's ON_ERROR = SKIP_FILE: the rows
 * and the load-history row commit together, or nothing of the file loads and its history says
 * "Load failed" with the first error.
 *
 * The file is read by DuckDB's read_csv with the CSV file format's options mapped onto it: every
 * field as text, a quoted "" as the empty string and an empty unquoted field as NULL (DuckDB's
 * allow_quoted_nulls = false). The pipe's SELECT items are translated like any Snowflake
 * expression, with $n → field n and METADATA$… → this file's values, then cast to the target
 * column types (a value that does not convert fails the file, as in Snowflake).
 */
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SnowflakeError, unsupported } from '../errors.ts';
import { ExprTranslator, type SessionNames } from '../translate.ts';
import { quoteIdent, sqlString, tokenize, type Token } from '../tokens.ts';
import type { LoadRecord } from './catalog.ts';
import type { Options, PipeDef } from './objects.ts';

export interface StagedFile {
  /** Local copy of the object. */
  localPath: string;
  /** The object's bytes (to count fields of the first record). */
  body: Uint8Array;
  /** Path relative to the stage URL (METADATA$FILENAME, COPY_HISTORY.FILE_NAME). */
  fileName: string;
  stageLocation: string;
  size: number;
  lastModified: Date | null;
  etag: string | null;
  receivedAt: Date;
}

const opt = (o: Options, k: string): string | null => {
  const v = o[k];
  return typeof v === 'string' ? v : null;
};

/** read_csv options for a Snowflake CSV file format; refuses options whose meaning is not emulated. */
export function readCsvOptions(format: Options, width: number): string {
  const upper = (k: string) => opt(format, k)?.toUpperCase() ?? null;
  const compression = upper('COMPRESSION') ?? 'AUTO';
  const delim = opt(format, 'FIELD_DELIMITER') ?? ',';
  const quote = opt(format, 'FIELD_OPTIONALLY_ENCLOSED_BY');
  const record = opt(format, 'RECORD_DELIMITER') ?? '\n';
  const nullIf = format.NULL_IF;
  if (record !== '\n') throw unsupported(`RECORD_DELIMITER other than '\\n'`);
  if (!Array.isArray(nullIf) || nullIf.length > 0) {
    // Snowflake's default is NULL_IF = ('\\N'): only an explicit empty list is emulated.
    throw unsupported(
      nullIf === undefined ? "NULL_IF's default ('\\N')" : 'NULL_IF with values',
      'Write NULL_IF = () and use empty unquoted fields for NULL.',
    );
  }
  if (upper('EMPTY_FIELD_AS_NULL') === 'FALSE') throw unsupported('EMPTY_FIELD_AS_NULL = FALSE');
  if ((upper('ESCAPE') ?? 'NONE') !== 'NONE' || (upper('ESCAPE_UNENCLOSED_FIELD') ?? '\\') !== 'NONE') {
    throw unsupported('ESCAPE / ESCAPE_UNENCLOSED_FIELD other than NONE');
  }
  const skip = Number(opt(format, 'SKIP_HEADER') ?? '0');
  const columns = Array.from({ length: width }, (_, i) => `${sqlString(`C${i + 1}`)}: 'VARCHAR'`).join(', ');
  return [
    `delim = ${sqlString(delim)}`,
    quote && quote.toUpperCase() !== 'NONE'
      ? `quote = ${sqlString(quote)}, escape = ${sqlString(quote)}`
      : `quote = '', escape = ''`,
    'header = false',
    `skip = ${skip}`,
    'auto_detect = false',
    'allow_quoted_nulls = false',
    "new_line = '\\n'",
    `compression = ${compression === 'GZIP' ? "'gzip'" : compression === 'NONE' ? "'none'" : "'auto_detect'"}`,
    `columns = {${columns}}`,
  ].join(', ');
}

/** The number of fields of the file's first record (0 for an empty file), honouring quotes. */
export function firstRecordWidth(body: Uint8Array, format: Options): number {
  const compression = opt(format, 'COMPRESSION')?.toUpperCase() ?? 'AUTO';
  const gz = compression === 'GZIP' || (compression === 'AUTO' && body[0] === 0x1f && body[1] === 0x8b);
  const delim = opt(format, 'FIELD_DELIMITER') ?? ',';
  const quote = opt(format, 'FIELD_OPTIONALLY_ENCLOSED_BY');
  // Decompress only as much as the first record needs: a growing prefix of the file.
  for (let take = 64 << 10; ; take *= 8) {
    const part = body.subarray(0, take);
    let text: string;
    try {
      text = (gz ? gunzipSync(part, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : Buffer.from(part)).toString('utf8');
    } catch (err) {
      throw new LoadError(
        `The file is not gzip-compressed as its file format says (COMPRESSION = ${compression}): ${(err as Error).message}.`,
        1,
        null,
      );
    }
    const { fields, complete } = countFields(text, delim, quote);
    // An unfinished first record at the end of the file: read_csv then names the error.
    if (complete || take >= body.length) return fields;
  }
}

/** Fields of the first record of `text`, and whether its end is in `text`. */
function countFields(text: string, delim: string, quote: string | null): { fields: number; complete: boolean } {
  if (text.length === 0) return { fields: 0, complete: true };
  let n = 1;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === quote) {
        if (text[i + 1] === quote) i++;
        else quoted = false;
      }
    } else if (c === quote) quoted = true;
    else if (c === delim) n++;
    else if (c === '\n') return { fields: n, complete: true };
  }
  return { fields: n, complete: false };
}

/** The metadata columns a pipe's SELECT may use (docs.snowflake.com/en/user-guide/querying-metadata). */
export const METADATA_COLUMNS = [
  'METADATA$FILENAME',
  'METADATA$FILE_ROW_NUMBER',
  'METADATA$START_SCAN_TIME',
  'METADATA$FILE_LAST_MODIFIED',
  'METADATA$FILE_CONTENT_KEY',
] as const;

/** The pipe's SELECT items as DuckDB expressions over the read_csv columns C1…Cn and "__ROW". */
export function selectExpressions(
  pipe: PipeDef,
  width: number,
  file: StagedFile,
  names: SessionNames,
  scanStart: Date,
): string[] {
  const items = pipe.items ?? Array.from({ length: width }, (_, i) => `$${i + 1}`);
  const meta: Record<(typeof METADATA_COLUMNS)[number], Token> = {
    METADATA$FILENAME: strToken(file.fileName),
    METADATA$FILE_ROW_NUMBER: { kind: 'qid', text: '"__ROW"', value: '__ROW', pos: 0 },
    METADATA$START_SCAN_TIME: rawToken(`CAST(${sqlString(scanStart.toISOString())} AS TIMESTAMPTZ)`),
    METADATA$FILE_LAST_MODIFIED: rawToken(
      file.lastModified ? `CAST(${sqlString(file.lastModified.toISOString().replace('Z', ''))} AS TIMESTAMP)` : 'NULL',
    ),
    METADATA$FILE_CONTENT_KEY: file.etag ? strToken(file.etag) : rawToken('NULL'),
  };
  return items.map((item) => {
    const src = tokenize(item);
    const out: Token[] = [];
    for (let i = 0; i < src.length; i++) {
      const t = src[i]!;
      if (t.kind === 'op' && t.text === '$' && src[i + 1]?.kind === 'num') {
        const n = Number(src[i + 1]!.value);
        // `alias.$1`: drop the alias and its dot.
        if (out.length >= 2 && out[out.length - 1]!.text === '.' && out[out.length - 2]!.value === pipe.alias)
          out.splice(-2, 2);
        // A field the records do not have is NULL: COPY transformations ignore ERROR_ON_COLUMN_COUNT_MISMATCH.
        out.push(n > width ? rawToken('NULL') : { kind: 'qid', text: `"C${n}"`, value: `C${n}`, pos: t.pos });
        i++;
      } else if (t.kind === 'word' && t.value.startsWith('METADATA$')) {
        const m = meta[t.value as (typeof METADATA_COLUMNS)[number]];
        if (!m) throw unsupported(t.value);
        if (out.length >= 2 && out[out.length - 1]!.text === '.' && out[out.length - 2]!.value === pipe.alias)
          out.splice(-2, 2);
        out.push(m);
      } else out.push(t);
    }
    return new ExprTranslator(out, { names, bindMode: 'none' }).all();
  });
}

const strToken = (v: string): Token => ({ kind: 'str', text: sqlString(v), value: v, pos: 0 });
/** A token whose text is already DuckDB SQL (ExprTranslator writes a word's value as is). */
const rawToken = (sql: string): Token => ({ kind: 'word', text: sql, value: sql, pos: 0 });

class LoadError extends Error {
  constructor(
    message: string,
    readonly line: number | null,
    readonly column: string | null,
  ) {
    super(message);
  }
}

/** Column names (upper case) and DuckDB types per `DB.SCHEMA.TABLE`: the warehouse's cache, cleared by every DDL. */
export type ColumnCache = Map<string, Array<{ name: string; type: string }>>;

async function targetColumns(
  conn: DuckDBConnection,
  pipe: PipeDef,
  cache: ColumnCache,
): Promise<Array<{ name: string; type: string }>> {
  const key = `${pipe.target.database}.${pipe.target.schema}.${pipe.target.table}`.toUpperCase();
  let all = cache.get(key);
  if (!all) {
    const r = await conn.runAndReadAll(
      'SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = $1 AND lower(schema_name) = lower($2) AND lower(table_name) = lower($3) ORDER BY column_index',
      [pipe.target.database, pipe.target.schema, pipe.target.table],
    );
    all = r.getRowsJS().map(([n, t]) => ({ name: String(n).toUpperCase(), type: String(t) }));
    if (all.length) cache.set(key, all);
  }
  if (!all.length)
    throw new LoadError(
      `Table '${pipe.target.database}.${pipe.target.schema}.${pipe.target.table}' does not exist or not authorized.`,
      null,
      null,
    );
  if (!pipe.columns) return all;
  return pipe.columns.map((c) => {
    const col = all.find((x) => x.name.toUpperCase() === c.toUpperCase());
    if (!col) throw new LoadError(`invalid identifier '${c}'`, null, null);
    return col;
  });
}

/** What a failed COPY leaves for diagnose(): the statement's parts, as far as they were built. */
interface CopyState {
  parsed: number;
  source: string;
  exprs: string[];
  cols: Array<{ name: string; type: string }>;
}

/**
 * Loads one file; never throws for bad data (the outcome says what happened). `record` runs in
 * the same transaction as the rows.
 */
export async function loadFile(
  conn: DuckDBConnection,
  pipe: PipeDef,
  format: Options,
  file: StagedFile,
  record: (rec: LoadRecord) => Promise<void>,
  columnCache: ColumnCache,
): Promise<LoadRecord> {
  const state: CopyState = { parsed: 0, source: '', exprs: [], cols: [] };
  try {
    let rec!: LoadRecord;
    await inTransaction(conn, async () => {
      rec = await copyFile(conn, pipe, format, file, record, columnCache, state);
    });
    return rec;
  } catch (err) {
    const firstError = await diagnose(conn, err, state.source, state.exprs, state.cols);
    const rec: LoadRecord = {
      ...recordBase(file),
      lastLoadTime: new Date().toISOString(),
      rowCount: 0,
      rowParsed: state.parsed,
      firstError,
      errorCount: 1,
      status: 'Load failed',
    };
    await inTransaction(conn, () => record(rec));
    return rec;
  }
}

/**
 * Several files of one pipe in ONE transaction (one COPY statement and history row per file, one
 * commit): most of a small file's cost is its commit. All or nothing: if any file fails, nothing
 * is committed and the result is null, so the caller loads them one at a time with loadFile, which
 * gives each its own outcome (ON_ERROR = SKIP_FILE is per file).
 */
export async function loadFiles(
  conn: DuckDBConnection,
  pipe: PipeDef,
  format: Options,
  files: StagedFile[],
  record: (rec: LoadRecord) => Promise<void>,
  columnCache: ColumnCache,
): Promise<LoadRecord[] | null> {
  const recs: LoadRecord[] = [];
  try {
    await inTransaction(conn, async () => {
      for (const file of files)
        recs.push(
          await copyFile(conn, pipe, format, file, record, columnCache, { parsed: 0, source: '', exprs: [], cols: [] }),
        );
    });
    return recs;
  } catch {
    return null;
  }
}

const recordBase = (file: StagedFile) => ({
  fileName: file.fileName,
  stageLocation: file.stageLocation,
  fileSize: file.size,
  pipeReceivedTime: file.receivedAt.toISOString(),
});

/** The COPY of one file and its history row, inside the caller's transaction; throws on bad data. */
async function copyFile(
  conn: DuckDBConnection,
  pipe: PipeDef,
  format: Options,
  file: StagedFile,
  record: (rec: LoadRecord) => Promise<void>,
  columnCache: ColumnCache,
  state: CopyState,
): Promise<LoadRecord> {
  const names: SessionNames = {
    database: pipe.database,
    schema: pipe.schema,
    user: 'SNOWPIPE',
    role: 'SYSADMIN',
    warehouse: null,
  };
  const base = recordBase(file);
  const width = firstRecordWidth(file.body, format);
  const cols = (state.cols = await targetColumns(conn, pipe, columnCache));
  if (width === 0) {
    const rec: LoadRecord = {
      ...base,
      lastLoadTime: new Date().toISOString(),
      rowCount: 0,
      rowParsed: 0,
      firstError: null,
      errorCount: 0,
      status: 'Loaded',
    };
    await record(rec);
    return rec;
  }
  const exprs = (state.exprs = selectExpressions(pipe, width, file, names, new Date()));
  if (exprs.length !== cols.length) {
    throw new LoadError(
      `The pipe selects ${exprs.length} value(s) for ${cols.length} column(s) of ${pipe.target.table}.`,
      null,
      null,
    );
  }
  const source =
    (state.source = `(SELECT *, row_number() OVER () AS "__ROW" FROM read_csv(${sqlString(file.localPath)}, ${readCsvOptions(format, width)})) AS "__FILE"`);
  const casts = cols.map((c, i) => `CAST(${exprs[i]} AS ${c.type})`);
  const table = [pipe.target.database, pipe.target.schema, pipe.target.table].map(quoteIdent).join('.');
  const r = await conn.runAndReadAll(
    `INSERT INTO ${table} (${cols.map((c) => quoteIdent(c.name)).join(', ')}) SELECT ${casts.join(', ')} FROM ${source}`,
  );
  state.parsed = Number(r.getRows()[0]?.[0] ?? 0);
  const rec: LoadRecord = {
    ...base,
    lastLoadTime: new Date().toISOString(),
    rowCount: state.parsed,
    rowParsed: state.parsed,
    firstError: null,
    errorCount: 0,
    status: 'Loaded',
  };
  await record(rec);
  return rec;
}

async function inTransaction(conn: DuckDBConnection, fn: () => Promise<void>): Promise<void> {
  await conn.run('BEGIN TRANSACTION');
  try {
    await fn();
    await conn.run('COMMIT');
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** The first error of a failed file: which line and column, when a value did not convert. */
async function diagnose(
  conn: DuckDBConnection,
  err: unknown,
  source: string,
  exprs: string[],
  cols: Array<{ name: string; type: string }>,
): Promise<NonNullable<LoadRecord['firstError']>> {
  if (err instanceof LoadError) return { message: err.message, line: err.line, column: err.column };
  const raw = err instanceof Error ? err.message : String(err);
  // Snowflake-style errors put the detail on the second line; DuckDB's first line is the error.
  const message = err instanceof SnowflakeError ? raw.replace(/\s*\n\s*/g, ' ') : raw.split('\n')[0]!;
  const csvLine = /CSV Error on Line: (\d+)/.exec(raw);
  if (csvLine) return { message: raw.replace(/\s+/g, ' ').slice(0, 500), line: Number(csvLine[1]), column: null };
  if (!source) return { message, line: null, column: null };
  // A conversion or NOT NULL failure: find the first row and column that fails on its own.
  try {
    const probes = cols.map(
      (c, i) => `CASE WHEN (${exprs[i]}) IS NOT NULL AND TRY_CAST(${exprs[i]} AS ${c.type}) IS NULL THEN ${i + 1} END`,
    );
    const r = await conn.runAndReadAll(
      `SELECT "__ROW", coalesce(${probes.join(', ')}) AS bad FROM ${source} WHERE coalesce(${probes.join(', ')}) IS NOT NULL ORDER BY "__ROW" LIMIT 1`,
    );
    const row = r.getRowsJS()[0];
    if (row) return { message, line: Number(row[0]), column: cols[Number(row[1]) - 1]!.name };
  } catch {
    // The probe is best effort; the message alone still explains the failure.
  }
  return { message, line: null, column: null };
}
