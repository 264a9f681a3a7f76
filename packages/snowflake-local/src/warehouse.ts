/**
 * The warehouse: one embedded DuckDB instance, Snowflake databases as attached DuckDB catalogs,
 * and sessions with Snowflake's transaction semantics on top of DuckDB's.
 *
 * Why sessions do more than forward statements:
 * - DuckDB aborts a whole transaction when a statement fails at run time; Snowflake keeps it. A
 *   session therefore logs the writes of its open transaction and, after a failed statement,
 *   rolls back and replays them, so the transaction continues as if the failure never happened.
 * - Snowflake statements are read-committed and MERGE/UPDATE/DELETE lock their table until the
 *   holder commits. DuckDB transactions are snapshots. The DuckDB transaction is started lazily,
 *   after the first statement's table lock is granted, and a locking statement that runs after
 *   other transactions committed refreshes the snapshot (rollback + replay) first, so a waiting
 *   MERGE sees the rows the lock holder committed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  DuckDBInstance,
  HUGEINT,
  VARCHAR,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { fromDuckDB, sfError, unsupported } from './errors.ts';
import type { Faults } from './faults.ts';
import { TableLocks } from './locks.ts';
import { SnowpipeCatalog } from './snowpipe/catalog.ts';
import { countsResult, encodeResult, statusResult, tableResult, type ResultSet } from './results.ts';
import { SqlSyntaxError, quoteIdent, splitStatements, sqlString, tokenize } from './tokens.ts';
import { STATEMENT_TYPE, normalizeTimestampText, translateStatement, type Plan, type TableRef } from './translate.ts';

export const DEFAULT_DATABASE = 'S3_ACCESS_LOGS';
export const DEFAULT_SCHEMA = 'PUBLIC';

export interface Binding {
  type: string;
  value: string | null | Array<string | null>;
  /** An array bind as the raw JSON text of the request (see request-body.ts); parsed on demand. */
  raw?: string;
}

const isArrayBind = (b: Binding) => b.raw !== undefined || Array.isArray(b.value);

/** The values of an array bind, parsing its raw JSON text once. */
function arrayOf(b: Binding): Array<string | null> {
  if (b.raw !== undefined && !Array.isArray(b.value)) b.value = JSON.parse(b.raw) as Array<string | null>;
  return Array.isArray(b.value) ? b.value : [b.value];
}

export interface StatementOutcome {
  queryId: string;
  sqlText: string;
  statementTypeId: number;
  result: ResultSet;
}

interface LoggedWrite {
  sql: string;
  values?: DuckDBValue[];
  types?: Array<DuckDBType | undefined>;
}

interface Txn {
  started: boolean;
  snapshotSeq: number;
  log: LoggedWrite[];
}

export interface WarehouseOptions {
  dbPath?: string;
  faults: Faults;
  lockTimeoutMs?: number;
  /** See Warehouse.detachedAbortMs (default 5 minutes, Snowflake's). */
  detachedAbortMs?: number;
}

export class Warehouse {
  /**
   * Snowflake's rule for a transaction left open by a session that went away (detached): once it
   * blocks another transaction's lock and has been idle this long, it is aborted and rolled back
   * (docs.snowflake.com/en/sql-reference/transactions#aborting-transactions: 5 minutes). Here,
   * idle = no statement of its session running or received for that long.
   */
  detachedAbortMs = 5 * 60_000;
  readonly locks: TableLocks;
  /** Bumped on every commit that may have written; a locking statement compares it to its snapshot. */
  commitSeq = 0;
  private readonly databases = new Map<string, string | null>();
  /** Column names and types per table, for bind normalization; cleared by every DDL. */
  readonly columnCache = new Map<string, Array<{ name: string; type: string }>>();
  private spool: string | null | undefined;

  /**
   * Scratch directory for large array binds (memory-backed /dev/shm when there is one), made on
   * first use; null when it cannot be made or SNOWFLAKE_LOCAL_SPOOL=off (binds are then bound).
   */
  get spoolDir(): string | null {
    if (this.spool !== undefined) return this.spool;
    this.spool = null;
    if (process.env.SNOWFLAKE_LOCAL_SPOOL !== 'off') {
      try {
        const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
        this.spool = fs.mkdtempSync(path.join(base, 'snowflake-local-'));
      } catch {
        this.spool = null;
      }
    }
    return this.spool;
  }
  private sessionSeq = 0;
  private readonly sessions = new Set<Session>();

  private constructor(
    readonly instance: DuckDBInstance,
    private readonly admin: DuckDBConnection,
    private readonly dbPath: string | undefined,
    readonly faults: Faults,
    lockTimeoutMs: number,
    /** File formats, stages, pipes and their load history (snowpipe/). */
    readonly catalog: SnowpipeCatalog,
  ) {
    this.locks = new TableLocks(lockTimeoutMs);
  }

  static async open(opts: WarehouseOptions): Promise<Warehouse> {
    // DuckDB here has no ICU extension: its time zone is UTC, as on a Snowflake account with TIMEZONE = 'UTC'.
    const instance = await DuckDBInstance.create(':memory:');
    const admin = await instance.connect();
    const catalog = await SnowpipeCatalog.open(instance);
    const wh = new Warehouse(
      instance,
      admin,
      opts.dbPath ? path.resolve(opts.dbPath) : undefined,
      opts.faults,
      opts.lockTimeoutMs ?? 60_000,
      catalog,
    );
    if (opts.detachedAbortMs !== undefined) wh.detachedAbortMs = opts.detachedAbortMs;
    if (wh.dbPath) {
      fs.mkdirSync(path.dirname(wh.dbPath), { recursive: true });
      await wh.attach(DEFAULT_DATABASE);
      for (const name of wh.siblingDatabases()) await wh.attach(name);
    } else {
      await wh.attach(DEFAULT_DATABASE);
    }
    return wh;
  }

  /** Files of databases other than the default one live next to dbPath: warehouse.<NAME>.duckdb. */
  private fileFor(name: string): string | null {
    if (!this.dbPath) return null;
    if (name === DEFAULT_DATABASE) return this.dbPath;
    const ext = path.extname(this.dbPath);
    return `${this.dbPath.slice(0, this.dbPath.length - ext.length)}.${name}${ext || '.duckdb'}`;
  }

  private siblingDatabases(): string[] {
    const dir = path.dirname(this.dbPath!);
    const ext = path.extname(this.dbPath!) || '.duckdb';
    const base = path.basename(this.dbPath!, path.extname(this.dbPath!));
    return fs
      .readdirSync(dir)
      .filter((f) => f.startsWith(`${base}.`) && f.endsWith(ext))
      .map((f) => f.slice(base.length + 1, f.length - ext.length))
      .filter((n) => /^[A-Z0-9_$]+$/.test(n) && n !== DEFAULT_DATABASE);
  }

  private async attach(name: string): Promise<void> {
    const file = this.fileFor(name);
    await this.admin.run(`ATTACH ${sqlString(file ?? ':memory:')} AS ${quoteIdent(name)}`);
    await this.admin.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(name)}.${quoteIdent(DEFAULT_SCHEMA)}`);
    await this.catalog.attachDatabase(name);
    this.databases.set(name, file);
  }

  hasDatabase(name: string): boolean {
    return this.databases.has(name);
  }

  databaseNames(): string[] {
    return [...this.databases.keys()];
  }

  async createDatabase(name: string, orReplace: boolean, ifNotExists: boolean): Promise<string> {
    if (this.databases.has(name)) {
      if (ifNotExists) return `${name} already exists, statement succeeded.`;
      if (!orReplace) throw sfError('alreadyExists', `SQL compilation error:\nObject '${name}' already exists.`);
      await this.dropDatabase(name, true);
    }
    await this.attach(name);
    return `Database ${name} successfully created.`;
  }

  async dropDatabase(name: string, ifExists: boolean): Promise<string> {
    this.columnCache.clear();
    if (!this.databases.has(name)) {
      if (ifExists) return 'Drop statement executed successfully (object does not exist).';
      throw sfError('objectMissing', `SQL compilation error:\nDatabase '${name}' does not exist or not authorized.`);
    }
    for (const s of this.sessions) if (s.database === name) await s.forgetDatabase();
    this.catalog.forgetDatabase(name);
    await this.admin.run(`DETACH ${quoteIdent(name)}`);
    const file = this.databases.get(name);
    this.databases.delete(name);
    if (file) for (const f of [file, `${file}.wal`]) fs.rmSync(f, { force: true });
    return `${name} successfully dropped.`;
  }

  async openSession(user: string, database: string | null, schema: string | null): Promise<Session> {
    const conn = await this.instance.connect();
    const session = new Session(++this.sessionSeq, user, this, conn);
    this.sessions.add(session);
    const db =
      database && this.databases.has(database.toUpperCase())
        ? database.toUpperCase()
        : database
          ? null
          : DEFAULT_DATABASE;
    if (db) {
      await session
        .use(db, schema ? schema.toUpperCase() : DEFAULT_SCHEMA)
        .catch(() => session.use(db, DEFAULT_SCHEMA));
    }
    return session;
  }

  /** Called while a statement waits for a lock `holder` has: aborts the holder's transaction if it is detached. */
  abortIfDetached(holder: number): void {
    for (const s of this.sessions)
      if (s.id === holder && s.idleMs() >= this.detachedAbortMs) void s.abortDetached(this.detachedAbortMs);
  }

  forget(session: Session): void {
    this.sessions.delete(session);
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) await s.close();
    this.catalog.close();
    for (const name of [...this.databases.keys()]) {
      await this.admin.run(`DETACH ${quoteIdent(name)}`).catch(() => undefined);
    }
    this.admin.closeSync();
    this.instance.closeSync();
    if (this.spool) fs.rmSync(this.spool, { recursive: true, force: true });
  }
}

const lockKey = (r: TableRef) => `${r.database}.${r.schema}.${r.table}`.toUpperCase();

/** Session parameters the client reads from every response (see snowflake-sdk parameters.js). */
const DEFAULT_PARAMS: Record<string, string | number | boolean> = {
  TIMEZONE: 'UTC',
  TIMESTAMP_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM',
  TIMESTAMP_NTZ_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3',
  TIMESTAMP_LTZ_OUTPUT_FORMAT: '',
  TIMESTAMP_TZ_OUTPUT_FORMAT: '',
  DATE_OUTPUT_FORMAT: 'YYYY-MM-DD',
  TIME_OUTPUT_FORMAT: 'HH24:MI:SS',
  BINARY_OUTPUT_FORMAT: 'HEX',
  CLIENT_RESULT_CHUNK_SIZE: 160,
  CLIENT_SESSION_KEEP_ALIVE: false,
  CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY: 3600,
  // Keeps the SDK sending array binds inline instead of uploading them to a stage with PUT.
  CLIENT_STAGE_ARRAY_BINDING_THRESHOLD: 2_000_000_000,
  JS_TREAT_INTEGER_AS_BIGINT: false,
  MULTI_STATEMENT_COUNT: 1,
  QUERY_CONTEXT_CACHE_SIZE: 5,
  AUTOCOMMIT: true,
  LOCK_TIMEOUT: 43200,
};

export class Session {
  database: string | null = null;
  schema: string | null = null;
  warehouse: string | null = 'LOCAL_WH';
  role = 'SYSADMIN';
  readonly params: Record<string, string | number | boolean> = { ...DEFAULT_PARAMS };
  readonly token = randomUUID();
  readonly masterToken = randomUUID();
  lastUsed = Date.now();
  private running = 0;
  /** Set when the transaction was aborted as detached: its statements fail until the client ends it. */
  private aborted: string | null = null;
  private txn: Txn | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(
    readonly id: number,
    readonly user: string,
    private readonly wh: Warehouse,
    private readonly conn: DuckDBConnection,
  ) {}

  parameterList(): Array<{ name: string; value: string | number | boolean }> {
    return Object.entries(this.params).map(([name, value]) => ({ name, value }));
  }

  /** Runs `fn` after every earlier request of this session finished (one statement at a time). */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async use(database: string, schema: string): Promise<void> {
    if (!this.wh.hasDatabase(database)) {
      throw sfError(
        'objectMissing',
        `SQL compilation error:\nDatabase '${database}' does not exist or not authorized.`,
      );
    }
    try {
      await this.conn.run(`USE ${quoteIdent(database)}.${quoteIdent(schema)}`);
    } catch {
      throw sfError(
        'objectMissing',
        `SQL compilation error:\nSchema '${database}.${schema}' does not exist or not authorized.`,
      );
    }
    this.database = database;
    this.schema = schema;
  }

  async forgetDatabase(): Promise<void> {
    this.database = null;
    this.schema = null;
  }

  close(): Promise<void> {
    this.closed = true;
    return (this.closing ??= this.serialize(async () => {
      if (this.txn?.started) await this.conn.run('ROLLBACK').catch(() => undefined);
      this.txn = null;
      this.wh.locks.releaseAll(this.id);
      this.conn.closeSync();
      this.wh.forget(this);
    }));
  }

  /** How long no statement of this session has been running or received. */
  idleMs(): number {
    return this.running > 0 ? 0 : Date.now() - this.lastUsed;
  }

  /** Snowflake's abort of a detached transaction that blocks another (Warehouse.detachedAbortMs). */
  abortDetached(afterMs: number): Promise<void> {
    return this.serialize(async () => {
      if (!this.txn || this.idleMs() < afterMs) return;
      await this.rollback();
      this.aborted = `Transaction aborted: it blocked another transaction's lock while its session was idle for more than ${Math.round(afterMs / 1000)} s (detached); end it with ROLLBACK.`;
    });
  }

  /** Cancels the statement running on this session (DuckDB raises an interrupt error). */
  interrupt(): void {
    this.conn.interrupt();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Executes a query-request: one statement, or several when multi-statement execution is allowed. */
  async execute(
    sqlText: string,
    bindings: Record<string, Binding> | undefined,
    requestParams: Record<string, unknown> | undefined,
    describeOnly = false,
  ): Promise<StatementOutcome[]> {
    this.lastUsed = Date.now();
    this.running++;
    try {
      return await this.executeAll(sqlText, bindings, requestParams, describeOnly);
    } finally {
      this.running--;
      this.lastUsed = Date.now();
    }
  }

  private async executeAll(
    sqlText: string,
    bindings: Record<string, Binding> | undefined,
    requestParams: Record<string, unknown> | undefined,
    describeOnly: boolean,
  ): Promise<StatementOutcome[]> {
    let statements;
    try {
      statements = splitStatements(tokenize(sqlText), sqlText);
    } catch (e) {
      if (e instanceof SqlSyntaxError) throw sfError('syntax', `SQL compilation error:\n${e.message}`);
      throw e;
    }
    if (statements.length === 0) throw sfError('syntax', 'SQL compilation error:\nEmpty SQL statement.');
    const [f0, f1] = statements[0]!.tokens;
    if (this.aborted) {
      if (f0?.value !== 'ROLLBACK') throw sfError('internal', this.aborted);
      this.aborted = null;
    }
    if (
      f0?.value === 'DECLARE' ||
      (f0?.value === 'BEGIN' && f1 && !['TRANSACTION', 'WORK', 'NAME'].includes(f1.value))
    ) {
      // A Snowflake Scripting block contains semicolons; say what it is rather than count statements.
      throw unsupported('Snowflake Scripting blocks (DECLARE/BEGIN ... END)');
    }
    const wanted = Number(requestParams?.MULTI_STATEMENT_COUNT ?? this.params.MULTI_STATEMENT_COUNT ?? 1);
    if (statements.length > 1 && wanted !== 0 && wanted !== statements.length) {
      throw sfError(
        'statementCount',
        `Actual statement count ${statements.length} did not match the desired statement count ${wanted}.`,
      );
    }
    const out: StatementOutcome[] = [];
    for (const st of statements)
      out.push(await this.executeOne(st.tokens, st.text, statements.length === 1 ? bindings : undefined, describeOnly));
    return out;
  }

  private async executeOne(
    tokens: ReturnType<typeof tokenize>,
    text: string,
    bindings: Record<string, Binding> | undefined,
    describeOnly: boolean,
  ): Promise<StatementOutcome> {
    const queryId = randomUUID();
    // A stall comes first, so a statement can both wait and then fail.
    const stall = this.wh.faults.statementStall(text);
    if (stall > 0) await new Promise((resolve) => setTimeout(resolve, stall));
    this.wh.faults.checkStatement(text);
    const keys = bindings
      ? Object.keys(bindings)
          .map(Number)
          .sort((a, b) => a - b)
      : [];
    const isArray = keys.some((k) => isArrayBind(bindings![String(k)]!));
    const bindTypes: Record<number, string> = {};
    for (const k of keys) bindTypes[k] = bindings![String(k)]!.type;
    const plan = translateStatement(
      tokens,
      {
        names: {
          database: this.database,
          schema: this.schema,
          user: this.user,
          role: this.role,
          warehouse: this.warehouse,
        },
        bindMode: keys.length === 0 ? 'none' : isArray ? 'array' : 'scalar',
        bindTypes,
        bindCount: keys.length ? keys[keys.length - 1] : 0,
        snowpipe: this.wh.catalog,
      },
      text,
    );
    if (describeOnly) {
      // Describe the result without running anything: a query's columns, a status for the rest.
      if (plan.kind === 'exec' && plan.type === 'query') {
        const { values, types } =
          keys.length && !isArray ? scalarParams(bindings!, keys, -1) : { values: undefined, types: undefined };
        const reader = await this.conn
          .runAndReadAll(
            `SELECT * FROM (${plan.sql}) AS "__DESCRIBE" LIMIT 0`,
            values,
            types as DuckDBType[] | undefined,
          )
          .catch((e) => {
            throw fromDuckDB(e);
          });
        return { queryId, sqlText: text, statementTypeId: plan.statementTypeId, result: encodeResult(reader) };
      }
      return {
        queryId,
        sqlText: text,
        statementTypeId: plan.kind === 'exec' ? plan.statementTypeId : STATEMENT_TYPE.session,
        result: { rowtype: [], rowset: [] },
      };
    }
    const { result, statementTypeId } = await this.runPlan(plan, text, bindings, keys, isArray);
    return { queryId, sqlText: text, statementTypeId, result };
  }

  private async runPlan(
    plan: Plan,
    text: string,
    bindings: Record<string, Binding> | undefined,
    keys: number[],
    isArray: boolean,
  ): Promise<{ result: ResultSet; statementTypeId: number }> {
    const ok = (msg = 'Statement executed successfully.', statementTypeId: number = STATEMENT_TYPE.session) => ({
      result: statusResult(msg),
      statementTypeId,
    });
    switch (plan.kind) {
      case 'txn':
        if (plan.op === 'begin') {
          this.txn ??= { started: false, snapshotSeq: this.wh.commitSeq, log: [] };
        } else if (plan.op === 'commit') await this.commit();
        else await this.rollback();
        return ok(undefined, STATEMENT_TYPE.txn);
      case 'use':
        if (plan.database || plan.schema) {
          const db = plan.database ?? this.database;
          if (!db)
            throw sfError(
              'objectMissing',
              'SQL compilation error:\nCannot perform USE SCHEMA. This session does not have a current database.',
            );
          await this.use(db, plan.schema ?? DEFAULT_SCHEMA);
        }
        return ok();
      case 'alterSession':
        for (const [k, v] of Object.entries(plan.set)) {
          if (k === 'TIMEZONE' && v.toUpperCase() !== 'UTC' && v !== 'Etc/UTC') {
            throw unsupported(`ALTER SESSION SET TIMEZONE = '${v}' (only UTC)`);
          }
          const cur = DEFAULT_PARAMS[k];
          this.params[k] = typeof cur === 'boolean' ? /^(TRUE|1)$/i.test(v) : typeof cur === 'number' ? Number(v) : v;
        }
        for (const k of plan.unset) {
          if (k in DEFAULT_PARAMS) this.params[k] = DEFAULT_PARAMS[k]!;
          else delete this.params[k];
        }
        return ok();
      case 'createDatabase': {
        await this.commitImplicitly();
        const msg = await this.wh.createDatabase(plan.name, plan.orReplace, plan.ifNotExists);
        await this.use(plan.name, DEFAULT_SCHEMA);
        return ok(msg, STATEMENT_TYPE.ddl);
      }
      case 'dropDatabase': {
        await this.commitImplicitly();
        return ok(await this.wh.dropDatabase(plan.name, plan.ifExists), STATEMENT_TYPE.ddl);
      }
      case 'describe':
        return { result: await this.describe(plan.table), statementTypeId: STATEMENT_TYPE.select };
      case 'show':
        return { result: await this.show(plan), statementTypeId: STATEMENT_TYPE.select };
      case 'snowpipe': {
        if (!plan.show) await this.commitImplicitly();
        const names = {
          database: this.database,
          schema: this.schema,
          user: this.user,
          role: this.role,
          warehouse: this.warehouse,
        };
        const result = await this.wh.catalog.execute(plan.tokens, names, text);
        return { result, statementTypeId: plan.show ? STATEMENT_TYPE.select : STATEMENT_TYPE.ddl };
      }
      case 'exec':
        return this.exec(plan, text, bindings, keys, isArray);
    }
  }

  private async exec(
    plan: Extract<Plan, { kind: 'exec' }>,
    text: string,
    bindings: Record<string, Binding> | undefined,
    keys: number[],
    isArray: boolean,
  ): Promise<{ result: ResultSet; statementTypeId: number }> {
    if (plan.type === 'ddl') {
      // DDL commits the open transaction first and then runs as its own transaction.
      await this.commitImplicitly();
      this.wh.columnCache.clear();
      if (plan.lock) await this.wh.locks.acquire(lockKey(plan.lock), this.id, text);
      try {
        await this.run(plan.sql);
        this.wh.commitSeq++;
      } finally {
        this.wh.locks.releaseAll(this.id);
      }
      return {
        result: statusResult(plan.status ?? 'Statement executed successfully.'),
        statementTypeId: plan.statementTypeId,
      };
    }

    if (bindings && keys.length) await this.normalizeTimestampBinds(plan, bindings);
    const write = plan.type !== 'query';
    const txn = this.txn;
    if (plan.lock) {
      const waited = await this.wh.locks.acquire(
        lockKey(plan.lock),
        this.id,
        text,
        (holder) => this.wh.abortIfDetached(holder),
        undefined,
        // The session's LOCK_TIMEOUT (seconds; ALTER SESSION), as Snowflake applies it.
        Number(this.params.LOCK_TIMEOUT) * 1000,
      );
      void waited;
    }
    try {
      if (txn) {
        if (!txn.started) {
          await this.run('BEGIN TRANSACTION');
          txn.started = true;
          txn.snapshotSeq = this.wh.commitSeq;
        } else if (txn.snapshotSeq !== this.wh.commitSeq && (plan.lock || txn.log.length === 0)) {
          // Read committed: a locking statement sees what the previous lock holder committed; a
          // transaction that has not written yet moves to the latest snapshot for free.
          await this.restartTxn(txn);
        }
      }
      const rows = await this.runStatement(plan, bindings, keys, isArray, txn);
      if (!txn && write) this.wh.commitSeq++;
      return { result: this.shape(plan, rows), statementTypeId: plan.statementTypeId };
    } catch (err) {
      if (txn?.started) await this.recoverTxn(txn);
      throw fromDuckDB(err);
    } finally {
      if (!txn) this.wh.locks.releaseAll(this.id);
    }
  }

  /**
   * Timestamp text bound for a timestamp column or cast may carry a spaced offset
   * ('2019-02-06 00:00:38 +0000'), which Snowflake reads and DuckDB does not.
   */
  private async normalizeTimestampBinds(
    plan: Extract<Plan, { kind: 'exec' }>,
    bindings: Record<string, Binding>,
  ): Promise<void> {
    const targets = new Set(plan.timestampBinds ?? []);
    const it = plan.insertTarget;
    if (it?.binds.length) {
      const cacheKey = lockKey(it.table);
      let cols = this.wh.columnCache.get(cacheKey);
      if (!cols) {
        const reader = await this.conn.runAndReadAll(
          'SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = $1 AND lower(schema_name) = lower($2) AND lower(table_name) = lower($3) ORDER BY column_index',
          [it.table.database, it.table.schema, it.table.table],
        );
        cols = reader.getRowsJS().map((r) => ({ name: String(r[0]).toUpperCase(), type: String(r[1]) }));
        if (cols.length) this.wh.columnCache.set(cacheKey, cols);
      }
      for (const { bind, position } of it.binds) {
        const name = it.columns ? it.columns[position] : cols[position]?.name;
        const col = cols.find((c) => c.name === name?.toUpperCase());
        if (col && /^(TIMESTAMP|DATE)/.test(col.type)) targets.add(bind);
      }
    }
    for (const b of targets) {
      const binding = bindings[String(b)];
      if (binding?.type !== 'TEXT') continue;
      if (isArrayBind(binding)) {
        binding.value = arrayOf(binding).map((x) => (x === null ? x : normalizeTimestampText(x)));
        delete binding.raw;
      } else if (typeof binding.value === 'string') binding.value = normalizeTimestampText(binding.value);
    }
  }

  /** Runs the statement; returns the rows DuckDB produced (counts for DML, merge actions for MERGE). */
  private async runStatement(
    plan: Extract<Plan, { kind: 'exec' }>,
    bindings: Record<string, Binding> | undefined,
    keys: number[],
    isArray: boolean,
    txn: Txn | null,
  ): Promise<ResultSet | DuckDBValue[][]> {
    const logWrite = (w: LoggedWrite) => {
      if (txn && plan.type !== 'query') txn.log.push(w);
    };
    if (isArray && !plan.arrayInsert) {
      // Batch DML other than a one-row VALUES insert: Snowflake runs it once per bind row.
      const n = Math.max(...keys.map((k) => arrayOf(bindings![String(k)]!).length));
      const own = !txn;
      if (own) await this.run('BEGIN TRANSACTION');
      const all: DuckDBValue[][] = [];
      try {
        if (plan.preSql) await this.run(plan.preSql);
        for (let r = 0; r < n; r++) {
          const { values, types } = scalarParams(bindings!, keys, r);
          const reader = await this.conn.runAndReadAll(plan.sql, values, types as DuckDBType[]);
          all.push(...reader.getRows());
          logWrite({ sql: plan.sql, values, types });
        }
        if (own) await this.run('COMMIT');
      } catch (e) {
        if (own) await this.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
      return plan.type === 'merge' ? all : [[all.reduce((s, r) => s + BigInt(r[0] as bigint), 0n)]];
    }
    let values: DuckDBValue[] | undefined;
    let types: Array<DuckDBType | undefined> | undefined;
    if (keys.length && plan.arrayInsert) {
      values = keys.map((k) => {
        const b = bindings![String(k)]!;
        return b.raw ?? JSON.stringify(isArrayBind(b) ? b.value : [b.value]);
      });
      types = keys.map(() => VARCHAR);
    } else if (keys.length) {
      ({ values, types } = scalarParams(bindings!, keys, -1));
    }
    const own = !txn && !!plan.preSql;
    if (own) await this.run('BEGIN TRANSACTION');
    try {
      if (plan.preSql) {
        await this.run(plan.preSql);
        logWrite({ sql: plan.preSql });
      }
      const reader =
        plan.arrayInsertHead &&
        values &&
        keys.length &&
        (values as string[]).reduce((n, v) => n + v.length, 0) >= SPOOL_MIN_BYTES &&
        this.wh.spoolDir
          ? await this.insertFromSpool(plan.arrayInsertHead, keys, values as string[])
          : await this.conn.runAndReadAll(plan.sql, values, types as DuckDBType[] | undefined);
      // A replay (after a failed statement in the transaction) uses the in-memory form.
      logWrite({ sql: plan.sql, values, types });
      if (own) await this.run('COMMIT');
      return plan.type === 'query' ? encodeResult(reader) : reader.getRows();
    } catch (e) {
      if (own) await this.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /**
   * Large array INSERTs: each bind's JSON array goes to a file that DuckDB's read_json scans, the
   * columns lined up with POSITIONAL JOIN. About 3x faster than from_json over bound strings.
   */
  private async insertFromSpool(head: string, keys: number[], texts: string[]) {
    const dir = path.join(this.wh.spoolDir!, randomUUID());
    await fs.promises.mkdir(dir, { recursive: true });
    try {
      const files = await Promise.all(
        keys.map(async (k, i) => {
          const file = path.join(dir, `${k}.json`);
          await fs.promises.writeFile(file, texts[i]!);
          return file;
        }),
      );
      const scans = keys.map(
        (k, i) =>
          `read_json(${sqlString(files[i]!)}, format = 'array', records = false, maximum_object_size = ${Math.max(16 << 20, texts[i]!.length + 1024)}, columns = {${sqlString(`__B${k}`)}: 'VARCHAR'}) AS ${quoteIdent(`__T${k}`)}`,
      );
      return await this.conn.runAndReadAll(`${head} ${scans.join(' POSITIONAL JOIN ')}`);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }

  private shape(plan: Extract<Plan, { kind: 'exec' }>, rows: ResultSet | DuckDBValue[][]): ResultSet {
    if (!Array.isArray(rows)) return rows;
    const count = () => (rows[0]?.[0] as bigint | number | undefined) ?? 0;
    switch (plan.type) {
      case 'insert':
        return countsResult(['number of rows inserted'], [count()]);
      case 'update':
        return countsResult(['number of rows updated', 'number of multi-joined rows updated'], [count(), 0]);
      case 'delete':
        return countsResult(['number of rows deleted'], [count()]);
      case 'merge': {
        const tally = { INSERT: 0, UPDATE: 0, DELETE: 0 } as Record<string, number>;
        for (const r of rows) tally[String(r[0])] = (tally[String(r[0])] ?? 0) + 1;
        const counters = plan.mergeCounters ?? [];
        return countsResult(
          counters.map((c) => `number of rows ${c}`),
          counters.map((c) => tally[c === 'inserted' ? 'INSERT' : c === 'updated' ? 'UPDATE' : 'DELETE'] ?? 0),
        );
      }
      default:
        return statusResult('Statement executed successfully.');
    }
  }

  private async run(sql: string): Promise<void> {
    await this.conn.run(sql);
  }

  /** Rolls back the DuckDB transaction and replays the transaction's writes on a fresh snapshot. */
  private async restartTxn(txn: Txn): Promise<void> {
    await this.conn.run('ROLLBACK').catch(() => undefined);
    await this.conn.run('BEGIN TRANSACTION');
    txn.snapshotSeq = this.wh.commitSeq;
    try {
      for (const w of txn.log) await this.conn.run(w.sql, w.values, w.types as DuckDBType[] | undefined);
    } catch (e) {
      // The replayed writes no longer apply (e.g. a table was dropped): the transaction is lost.
      await this.conn.run('ROLLBACK').catch(() => undefined);
      this.txn = null;
      this.wh.locks.releaseAll(this.id);
      throw sfError(
        'internal',
        `Transaction aborted: its earlier statements could not be re-applied (${fromDuckDB(e).message}).`,
      );
    }
  }

  /** After a failed statement: if DuckDB aborted the transaction, restore it from the log. */
  private async recoverTxn(txn: Txn): Promise<void> {
    try {
      await this.conn.run('SELECT 1');
      return; // still usable (parser/binder/catalog errors do not abort DuckDB transactions)
    } catch {
      await this.restartTxn(txn).catch(() => undefined);
    }
  }

  private async commit(): Promise<void> {
    const txn = this.txn;
    this.txn = null;
    try {
      if (txn?.started) {
        try {
          await this.conn.run('COMMIT');
        } catch (e) {
          await this.conn.run('ROLLBACK').catch(() => undefined);
          throw fromDuckDB(e);
        }
        if (txn.log.length) this.wh.commitSeq++;
      }
    } finally {
      this.wh.locks.releaseAll(this.id);
    }
  }

  private async rollback(): Promise<void> {
    const txn = this.txn;
    this.txn = null;
    try {
      if (txn?.started) await this.conn.run('ROLLBACK').catch(() => undefined);
    } finally {
      this.wh.locks.releaseAll(this.id);
    }
  }

  private async commitImplicitly(): Promise<void> {
    if (this.txn) await this.commit();
  }

  private async describe(t: TableRef): Promise<ResultSet> {
    const reader = await this.conn
      .runAndReadAll(
        'SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns() WHERE database_name = $1 AND schema_name = $2 AND table_name = $3 ORDER BY column_index',
        [t.database, t.schema, t.table],
      )
      .catch((e) => {
        throw fromDuckDB(e);
      });
    const rows = reader.getRowsJS();
    if (!rows.length)
      throw sfError('objectMissing', `SQL compilation error:\nTable '${t.table}' does not exist or not authorized.`);
    return tableResult(
      ['name', 'type', 'kind', 'null?', 'default', 'primary key', 'unique key', 'check', 'expression', 'comment'].map(
        (name) => ({ name, kind: 'text' as const }),
      ),
      rows.map((r) => [
        String(r[0]),
        snowflakeTypeName(String(r[1])),
        'COLUMN',
        r[2] ? 'Y' : 'N',
        r[3] === null ? null : String(r[3]),
        'N',
        'N',
        null,
        null,
        null,
      ]),
    );
  }

  private async show(plan: Extract<Plan, { kind: 'show' }>): Promise<ResultSet> {
    const like = plan.like
      ? new RegExp(
          `^${plan.like
            .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
            .replaceAll('%', '.*')
            .replaceAll('_', '.')}$`,
          'i',
        )
      : null;
    if (plan.what === 'databases') {
      const names = this.wh.databaseNames().filter((n) => !like || like.test(n));
      return tableResult(
        [
          { name: 'created_on', kind: 'text' },
          { name: 'name', kind: 'text' },
          { name: 'is_default', kind: 'text' },
          { name: 'is_current', kind: 'text' },
          { name: 'owner', kind: 'text' },
        ],
        names.map((n) => [null, n, n === DEFAULT_DATABASE ? 'Y' : 'N', n === this.database ? 'Y' : 'N', 'SYSADMIN']),
      );
    }
    const db =
      plan.in && plan.in.length >= 1
        ? plan.what === 'tables' && plan.in.length === 1
          ? this.database
          : plan.in[0]!
        : this.database;
    const schema = plan.what === 'tables' ? (plan.in ? plan.in[plan.in.length - 1]! : this.schema) : null;
    if (plan.what === 'schemas') {
      const r = await this.conn.runAndReadAll(
        'SELECT schema_name FROM duckdb_schemas() WHERE database_name = $1 AND NOT internal ORDER BY 1',
        [db ?? ''],
      );
      const names = r
        .getRowsJS()
        .map((x) => String(x[0]))
        .filter((n) => n !== 'main' && (!like || like.test(n)));
      return tableResult(
        [
          { name: 'created_on', kind: 'text' },
          { name: 'name', kind: 'text' },
          { name: 'database_name', kind: 'text' },
        ],
        names.map((n) => [null, n, db]),
      );
    }
    const r = await this.conn.runAndReadAll(
      'SELECT table_name, estimated_size FROM duckdb_tables() WHERE database_name = $1 AND schema_name = $2 ORDER BY 1',
      [db ?? '', schema ?? ''],
    );
    const rows = r.getRowsJS().filter((x) => !like || like.test(String(x[0])));
    return tableResult(
      [
        { name: 'created_on', kind: 'text' },
        { name: 'name', kind: 'text' },
        { name: 'database_name', kind: 'text' },
        { name: 'schema_name', kind: 'text' },
        { name: 'kind', kind: 'text' },
        { name: 'rows', kind: 'fixed' },
      ],
      rows.map((x) => [null, String(x[0]), db, schema, 'TABLE', String(x[1] ?? 0)]),
    );
  }
}

function snowflakeTypeName(duck: string): string {
  if (duck === 'HUGEINT' || duck === 'INTEGER' || duck === 'SMALLINT' || duck === 'TINYINT') return 'NUMBER(38,0)';
  if (duck === 'BIGINT') return 'NUMBER(18,0)';
  const dec = duck.match(/^DECIMAL\((\d+),(\d+)\)$/);
  if (dec) return `NUMBER(${dec[1]},${dec[2]})`;
  if (duck === 'VARCHAR') return 'VARCHAR(16777216)';
  if (duck === 'DOUBLE' || duck === 'FLOAT') return 'FLOAT';
  if (duck === 'TIMESTAMP WITH TIME ZONE') return 'TIMESTAMP_TZ(9)';
  if (duck === 'TIMESTAMP') return 'TIMESTAMP_NTZ(9)';
  if (duck === 'JSON') return 'VARIANT';
  if (duck === 'TIME') return 'TIME(9)';
  if (duck === 'BLOB') return 'BINARY(8388608)';
  return duck;
}

/** Array INSERTs whose binds total at least this much JSON are read from spooled files (see insertFromSpool). */
const SPOOL_MIN_BYTES = 256 * 1024;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Scalar binds (or row `row` of array binds) as typed DuckDB values: numbers stay numbers. */
function scalarParams(
  bindings: Record<string, Binding>,
  keys: number[],
  row: number,
): { values: DuckDBValue[]; types: Array<DuckDBType | undefined> } {
  const values: DuckDBValue[] = [];
  const types: Array<DuckDBType | undefined> = [];
  for (const k of keys) {
    const b = bindings[String(k)]!;
    const raw = row < 0 ? b.value : isArrayBind(b) ? (arrayOf(b)[row] ?? null) : b.value;
    if (raw === null || raw === undefined) {
      values.push(null);
      types.push(undefined);
      continue;
    }
    const v = String(raw);
    switch (b.type) {
      case 'FIXED':
        if (/^-?\d+$/.test(v)) {
          const n = BigInt(v);
          values.push(n);
          types.push(n >= INT64_MIN && n <= INT64_MAX ? BIGINT : HUGEINT);
        } else {
          values.push(Number(v));
          types.push(DOUBLE);
        }
        break;
      case 'REAL':
        values.push(Number(v));
        types.push(DOUBLE);
        break;
      case 'BOOLEAN':
        values.push(/^(true|1)$/i.test(v));
        types.push(BOOLEAN);
        break;
      default:
        values.push(v);
        types.push(VARCHAR);
    }
  }
  return { values, types };
}
