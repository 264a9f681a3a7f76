/**
 * The Snowpipe catalog: file formats, stages and pipes, and each pipe's load history, kept in
 * memory and persisted in the `main` schema of the database that holds them (hidden from SHOW
 * SCHEMAS), so that a restart with the same DuckDB file keeps the pipes and, above all, the load
 * history that stops a file from loading twice.
 *
 * Load history rows carry COPY_HISTORY's columns; the table function COPY_HISTORY is translated
 * to a query over them (see copyHistorySql).
 */
import { randomUUID } from 'node:crypto';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { sfError } from '../errors.ts';
import { tableResult, type ResultSet } from '../results.ts';
import { quoteIdent, sqlString } from '../tokens.ts';
import type { SessionNames } from '../translate.ts';
import { readCsvOptions } from './load.ts';
import {
  parseSnowpipeStatement,
  type ObjectKind,
  type Options,
  type ObjectRef,
  type PipeDef,
  type SnowpipeObject,
  type SnowpipeStatement,
} from './objects.ts';
import type { Token } from '../tokens.ts';

const OBJECTS = 'SNOWFLAKE_LOCAL_SNOWPIPE_OBJECTS';
export const HISTORY = 'SNOWFLAKE_LOCAL_COPY_HISTORY';

/** COPY_HISTORY's columns, in its order (docs.snowflake.com/en/sql-reference/functions/copy_history). */
export const COPY_HISTORY_COLUMNS: Array<[string, string]> = [
  ['FILE_NAME', 'VARCHAR'],
  ['STAGE_LOCATION', 'VARCHAR'],
  ['LAST_LOAD_TIME', 'TIMESTAMPTZ'],
  ['ROW_COUNT', 'BIGINT'],
  ['ROW_PARSED', 'BIGINT'],
  ['FILE_SIZE', 'BIGINT'],
  ['FIRST_ERROR_MESSAGE', 'VARCHAR'],
  ['FIRST_ERROR_LINE_NUMBER', 'BIGINT'],
  ['FIRST_ERROR_CHARACTER_POS', 'BIGINT'],
  ['FIRST_ERROR_COLUMN_NAME', 'VARCHAR'],
  ['ERROR_COUNT', 'BIGINT'],
  ['ERROR_LIMIT', 'BIGINT'],
  ['STATUS', 'VARCHAR'],
  ['TABLE_CATALOG_NAME', 'VARCHAR'],
  ['TABLE_SCHEMA_NAME', 'VARCHAR'],
  ['TABLE_NAME', 'VARCHAR'],
  ['PIPE_CATALOG_NAME', 'VARCHAR'],
  ['PIPE_SCHEMA_NAME', 'VARCHAR'],
  ['PIPE_NAME', 'VARCHAR'],
  ['PIPE_RECEIVED_TIME', 'TIMESTAMPTZ'],
  ['FIRST_COMMIT_TIME', 'TIMESTAMPTZ'],
];

/** One COPY_HISTORY row (what a pipe did with one file). */
export interface LoadRecord {
  fileName: string;
  stageLocation: string;
  lastLoadTime: string;
  rowCount: number;
  rowParsed: number;
  fileSize: number;
  firstError: { message: string; line: number | null; column: string | null } | null;
  errorCount: number;
  status: 'Loaded' | 'Load failed';
  pipeReceivedTime: string;
}

const keyOf = (kind: ObjectKind, r: ObjectRef) => `${kind}:${r.database}.${r.schema}.${r.name}`;
const displayName = (r: ObjectRef) => `${r.database}.${r.schema}.${r.name}`;
const KIND_NAME: Record<ObjectKind, string> = { fileFormat: 'File format', stage: 'Stage', pipe: 'Pipe' };

export interface PipeRuntime {
  /** Files notified but not loaded yet (pending while the pipe is paused, or queued). */
  pending(pipe: PipeDef): number;
  /** Called after a pipe is resumed, so its pending files load. */
  resumed(pipe: PipeDef): void;
  refresh(pipe: PipeDef, prefix: string): Promise<Array<[string, string]>>;
}

export class SnowpipeCatalog {
  private readonly objects = new Map<string, SnowpipeObject>();
  /** Files each pipe has loaded (by pipe id), so a second notification is skipped. */
  private readonly loaded = new Map<string, Set<string>>();
  private readonly lastIngested = new Map<string, { time: string; path: string }>();
  /** The SQS queue ARN SHOW PIPES reports as notification_channel (set by the engine). */
  notificationChannel: string | null = null;
  runtime: PipeRuntime | null = null;

  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(instance: DuckDBInstance): Promise<SnowpipeCatalog> {
    return new SnowpipeCatalog(await instance.connect());
  }

  /** Creates the catalog tables in a newly attached database and loads what they hold. */
  async attachDatabase(db: string): Promise<void> {
    const main = `${quoteIdent(db)}.main`;
    await this.conn.run(
      `CREATE TABLE IF NOT EXISTS ${main}.${OBJECTS} (KIND VARCHAR, SCHEMA_NAME VARCHAR, NAME VARCHAR, DEFINITION VARCHAR)`,
    );
    await this.conn.run(
      `CREATE TABLE IF NOT EXISTS ${main}.${HISTORY} (PIPE_ID VARCHAR, ${COPY_HISTORY_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`,
    );
    const objs = await this.conn.runAndReadAll(`SELECT DEFINITION FROM ${main}.${OBJECTS}`);
    for (const [def] of objs.getRowsJS()) {
      const o = JSON.parse(String(def)) as SnowpipeObject;
      this.objects.set(keyOf(o.kind, o), o);
    }
    const hist = await this.conn.runAndReadAll(
      `SELECT PIPE_ID, STAGE_LOCATION || FILE_NAME FROM ${main}.${HISTORY} WHERE STATUS = 'Loaded'`,
    );
    for (const [id, path] of hist.getRowsJS()) this.loadedSet(String(id)).add(String(path));
  }

  forgetDatabase(db: string): void {
    for (const [k, o] of this.objects) if (o.database === db) this.objects.delete(k);
  }

  close(): void {
    this.conn.closeSync();
  }

  private loadedSet(pipeId: string): Set<string> {
    let s = this.loaded.get(pipeId);
    if (!s) this.loaded.set(pipeId, (s = new Set()));
    return s;
  }

  get<K extends ObjectKind>(kind: K, r: ObjectRef): Extract<SnowpipeObject, { kind: K }> | undefined {
    return this.objects.get(keyOf(kind, r)) as Extract<SnowpipeObject, { kind: K }> | undefined;
  }

  pipes(): PipeDef[] {
    return [...this.objects.values()].filter((o): o is PipeDef => o.kind === 'pipe');
  }

  /** Resolves a pipe named in a string (SYSTEM$PIPE_STATUS('db.schema.pipe')) or fails like Snowflake. */
  pipeByName(text: string, names: SessionNames): PipeDef {
    const parts = text.split('.').map((p) => (p.startsWith('"') && p.endsWith('"') ? p.slice(1, -1) : p.toUpperCase()));
    const name = parts[parts.length - 1]!;
    const schema = parts.length >= 2 ? parts[parts.length - 2]! : names.schema;
    const database = parts.length >= 3 ? parts[parts.length - 3]! : names.database;
    const pipe = database && schema ? this.get('pipe', { database, schema, name }) : undefined;
    if (!pipe)
      throw sfError('objectMissing', `SQL compilation error:\nPipe '${text}' does not exist or not authorized.`);
    return pipe;
  }

  isLoaded(pipe: PipeDef, stageLocation: string, fileName: string): boolean {
    return this.loaded.get(pipe.id)?.has(stageLocation + fileName) ?? false;
  }

  /** Records one file's outcome (in `conn`'s open transaction when given, so it commits with the rows). */
  async record(pipe: PipeDef, rec: LoadRecord, conn: DuckDBConnection = this.conn): Promise<void> {
    const values = [
      pipe.id,
      rec.fileName,
      rec.stageLocation,
      rec.lastLoadTime,
      rec.rowCount,
      rec.rowParsed,
      rec.fileSize,
      rec.firstError?.message ?? null,
      rec.firstError?.line ?? null,
      null,
      rec.firstError?.column ?? null,
      rec.errorCount,
      1,
      rec.status,
      pipe.target.database,
      pipe.target.schema,
      pipe.target.table,
      pipe.database,
      pipe.schema,
      pipe.name,
      rec.pipeReceivedTime,
      rec.status === 'Loaded' ? rec.lastLoadTime : null,
    ];
    const sqlValues = values
      .map((v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : sqlString(v)))
      .join(', ');
    await conn.run(`INSERT INTO ${quoteIdent(pipe.database)}.main.${HISTORY} VALUES (${sqlValues})`);
  }

  /** After the transaction that recorded `rec` committed. */
  committed(pipe: PipeDef, rec: LoadRecord): void {
    if (rec.status !== 'Loaded') return;
    this.loadedSet(pipe.id).add(rec.stageLocation + rec.fileName);
    this.lastIngested.set(pipe.id, { time: rec.lastLoadTime, path: rec.fileName });
  }

  async execute(t: Token[], names: SessionNames, source: string): Promise<ResultSet> {
    const st = parseSnowpipeStatement(t, names, source, randomUUID);
    switch (st.op) {
      case 'create':
        return this.create(st);
      case 'drop': {
        const existing = this.get(st.kind, st.ref);
        if (!existing) {
          if (st.ifExists) return status('Drop statement executed successfully (object does not exist).');
          throw missing(st.kind, st.ref);
        }
        await this.remove(existing);
        return status(`${existing.name} successfully dropped.`);
      }
      case 'alterPipe':
        return this.alterPipe(st);
      case 'show':
        return this.show(st);
    }
  }

  private async create(st: Extract<SnowpipeStatement, { op: 'create' }>): Promise<ResultSet> {
    const o = st.object;
    const existing = this.get(o.kind, o);
    const created = `${KIND_NAME[o.kind]} ${o.name} successfully created.`;
    if (existing && st.ifNotExists) return status(`${o.name} already exists, statement succeeded.`);
    if (existing && !st.orReplace)
      throw sfError('alreadyExists', `SQL compilation error:\nObject '${o.name}' already exists.`);
    if (o.kind === 'pipe') this.checkPipe(o);
    if (existing) await this.remove(existing);
    await this.save(o);
    return status(created);
  }

  /** A pipe's stage and file format must exist when it is created (as in Snowflake). */
  private checkPipe(p: PipeDef): void {
    if (!this.get('stage', p.stage)) {
      throw sfError(
        'objectMissing',
        `SQL compilation error:\nStage '${displayName(p.stage)}' does not exist or not authorized.`,
      );
    }
    const fmt = this.fileFormatRef(p);
    if (fmt && !this.get('fileFormat', fmt)) {
      throw sfError(
        'objectMissing',
        `SQL compilation error:\nFile format '${displayName(fmt)}' does not exist or not authorized.`,
      );
    }
    // Refuse now, not at the first file, a format whose options the loader does not emulate.
    readCsvOptions(this.formatOptions(p) ?? {}, 1);
  }

  /** The CSV options a pipe loads with: its named format, or inline options (its own, else its stage's). */
  formatOptions(p: PipeDef): Options | undefined {
    const ref = this.fileFormatRef(p);
    if (ref) return this.get('fileFormat', ref)?.options;
    const inline = p.fileFormat ?? this.get('stage', p.stage)?.fileFormat ?? null;
    return inline && typeof inline === 'object' && !Array.isArray(inline) ? inline : {};
  }

  /** The named file format a pipe uses (its own FILE_FORMAT, else its stage's), or null for inline/default options. */
  fileFormatRef(p: PipeDef): ObjectRef | null {
    const ff = p.fileFormat ?? this.get('stage', p.stage)?.fileFormat ?? null;
    const name = ff && typeof ff === 'object' && !Array.isArray(ff) ? ff.FORMAT_NAME : null;
    if (typeof name !== 'string') return null;
    const parts = name.split('.').map((s) => s.toUpperCase());
    return {
      database: parts.length >= 3 ? parts[0]! : p.database,
      schema: parts.length >= 2 ? parts[parts.length - 2]! : p.schema,
      name: parts[parts.length - 1]!,
    };
  }

  private async save(o: SnowpipeObject): Promise<void> {
    const main = `${quoteIdent(o.database)}.main`;
    await this.conn.run(
      `DELETE FROM ${main}.${OBJECTS} WHERE KIND = ${sqlString(o.kind)} AND SCHEMA_NAME = ${sqlString(o.schema)} AND NAME = ${sqlString(o.name)}`,
    );
    await this.conn.run(
      `INSERT INTO ${main}.${OBJECTS} VALUES (${sqlString(o.kind)}, ${sqlString(o.schema)}, ${sqlString(o.name)}, ${sqlString(JSON.stringify(o))})`,
    );
    this.objects.set(keyOf(o.kind, o), o);
  }

  private async remove(o: SnowpipeObject): Promise<void> {
    await this.conn.run(
      `DELETE FROM ${quoteIdent(o.database)}.main.${OBJECTS} WHERE KIND = ${sqlString(o.kind)} AND SCHEMA_NAME = ${sqlString(o.schema)} AND NAME = ${sqlString(o.name)}`,
    );
    this.objects.delete(keyOf(o.kind, o));
    if (o.kind === 'pipe') this.loaded.delete(o.id);
  }

  private async alterPipe(st: Extract<SnowpipeStatement, { op: 'alterPipe' }>): Promise<ResultSet> {
    const pipe = this.get('pipe', st.ref);
    if (!pipe) throw missing('pipe', st.ref);
    if (st.refreshPrefix !== undefined) {
      if (!this.runtime)
        throw sfError(
          'unsupported',
          'ALTER PIPE ... REFRESH needs the auto-ingest engine: start snowflake-local with snowpipe options.',
        );
      const rows = await this.runtime.refresh(pipe, st.refreshPrefix);
      return tableResult(
        [
          { name: 'File', kind: 'text' },
          { name: 'Status', kind: 'text' },
        ],
        rows,
      );
    }
    if (st.paused !== undefined && st.paused !== pipe.paused) {
      await this.save({ ...pipe, paused: st.paused });
      if (!st.paused) this.runtime?.resumed(this.get('pipe', st.ref)!);
    }
    return status('Statement executed successfully.');
  }

  /** SYSTEM$PIPE_STATUS's JSON (the fields this emulation knows). */
  pipeStatus(text: string, names: SessionNames): string {
    const pipe = this.pipeByName(text, names);
    const last = this.lastIngested.get(pipe.id);
    return JSON.stringify({
      executionState: pipe.paused ? 'PAUSED' : 'RUNNING',
      pendingFileCount: this.runtime?.pending(pipe) ?? 0,
      ...(last ? { lastIngestedTimestamp: last.time, lastIngestedFilePath: last.path } : {}),
      ...(this.notificationChannel ? { notificationChannelName: this.notificationChannel } : {}),
    });
  }

  /**
   * COPY_HISTORY(TABLE_NAME => …, START_TIME => … [, END_TIME => …] [, PIPE_NAME => …]) as a
   * subquery. `args` are DuckDB SQL expressions already translated; `db` is the database whose
   * INFORMATION_SCHEMA was named (or the session's).
   */
  copyHistorySql(args: Record<string, string>, tableName: string | null, db: string, names: SessionNames): string {
    if (!tableName)
      throw sfError(
        'syntax',
        "SQL compilation error:\nCOPY_HISTORY needs TABLE_NAME => '<table>' as a string literal.",
      );
    if (!args.START_TIME)
      throw sfError('syntax', 'SQL compilation error:\nCOPY_HISTORY needs START_TIME => <timestamp>.');
    const parts = tableName
      .split('.')
      .map((p) => (p.startsWith('"') && p.endsWith('"') ? p.slice(1, -1) : p.toUpperCase()));
    const table = parts[parts.length - 1]!;
    const schema = parts.length >= 2 ? parts[parts.length - 2]! : (names.schema ?? '');
    const where = [
      `TABLE_CATALOG_NAME = ${sqlString(parts.length >= 3 ? parts[0]! : db)}`,
      `TABLE_SCHEMA_NAME = ${sqlString(schema)}`,
      `TABLE_NAME = ${sqlString(table)}`,
      `LAST_LOAD_TIME >= CAST(${args.START_TIME} AS TIMESTAMPTZ)`,
      ...(args.END_TIME ? [`LAST_LOAD_TIME <= CAST(${args.END_TIME} AS TIMESTAMPTZ)`] : []),
      ...(args.PIPE_NAME ? [`PIPE_NAME = upper(${args.PIPE_NAME})`] : []),
    ];
    return `(SELECT ${COPY_HISTORY_COLUMNS.map(([n]) => n).join(', ')} FROM ${quoteIdent(db)}.main.${HISTORY} WHERE ${where.join(' AND ')})`;
  }

  /** SHOW PIPES | STAGES | FILE FORMATS: the objects of that kind the LIKE and IN clauses select, by name. */
  private show(st: Extract<SnowpipeStatement, { op: 'show' }>): ResultSet {
    const like = st.like ? likePattern(st.like) : null;
    const list = [...this.objects.values()]
      .filter(
        (o) =>
          o.kind === st.kind && (!st.database || o.database === st.database) && (!st.schema || o.schema === st.schema),
      )
      .filter((o) => !like || like.test(o.name))
      .sort((a, b) => displayName(a).localeCompare(displayName(b)));
    const { columns, row } = SHOWN[st.kind] as Shown<SnowpipeObject>;
    return tableResult(
      ['created_on', 'name', 'database_name', 'schema_name', ...columns].map((name) => ({
        name,
        kind: 'text' as const,
      })),
      list.map((o) => [o.createdOn, o.name, o.database, o.schema, ...row(o, this.notificationChannel)]),
    );
  }
}

/** A SHOW LIKE pattern (% and _ wildcards, case-insensitive) as a regular expression. */
function likePattern(like: string): RegExp {
  const escaped = like.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replaceAll('%', '.*').replaceAll('_', '.')}$`, 'i');
}

/** SHOW's columns after created_on, name, database_name, schema_name, and an object's values for them. */
interface Shown<T> {
  columns: string[];
  row(o: T, notificationChannel: string | null): Array<string | null>;
}

const SHOWN: { [K in ObjectKind]: Shown<Extract<SnowpipeObject, { kind: K }>> } = {
  pipe: {
    columns: [
      'definition',
      'owner',
      'notification_channel',
      'comment',
      'integration',
      'pattern',
      'error_integration',
      'owner_role_type',
      'invalid',
      'invalid_reason',
    ],
    row: (p, channel) => [
      p.definition,
      'SYSADMIN',
      p.autoIngest ? channel : null,
      p.comment,
      null,
      null,
      null,
      'ROLE',
      'false',
      null,
    ],
  },
  stage: {
    columns: [
      'url',
      'has_credentials',
      'has_encryption_key',
      'owner',
      'comment',
      'region',
      'type',
      'cloud',
      'notification_channel',
      'storage_integration',
    ],
    row: (s) => [
      s.url,
      s.hasCredentials ? 'Y' : 'N',
      'N',
      'SYSADMIN',
      s.comment,
      null,
      'EXTERNAL',
      'AWS',
      null,
      s.storageIntegration,
    ],
  },
  fileFormat: {
    columns: ['type', 'owner', 'comment', 'format_options'],
    row: (f) => [
      String(f.options.TYPE ?? 'CSV').toUpperCase(),
      'SYSADMIN',
      typeof f.options.COMMENT === 'string' ? f.options.COMMENT : null,
      JSON.stringify(f.options),
    ],
  },
};

const status = (msg: string): ResultSet => tableResult([{ name: 'status', kind: 'text' }], [[msg]]);

function missing(kind: ObjectKind, r: ObjectRef) {
  return sfError(
    'objectMissing',
    `SQL compilation error:\n${KIND_NAME[kind]} '${displayName(r)}' does not exist or not authorized.`,
  );
}
