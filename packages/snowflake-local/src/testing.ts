/**
 * `snowflake-local/testing`: a snowflake-local on an ephemeral port and real snowflake-sdk
 * connections to it, for tests (the package's own, and the product's through local/harness).
 *
 *   const sf = await startSnowflake();            // in-memory warehouse
 *   const conn = await sf.connect();              // account/user/password "local", S3_ACCESS_LOGS.PUBLIC
 *   const rows = await exec(conn, 'SELECT ? AS X', [1]);
 *   await sf.stop();                              // destroys open connections, stops the server
 *
 * snowflake-sdk is the caller's (a peer dependency): this module only drives it.
 */
import os from 'node:os';
import path from 'node:path';
import snowflake from 'snowflake-sdk';
import { startSnowflakeLocal, type SnowflakeLocal, type SnowflakeLocalOptions } from './index.ts';

export type Connection = snowflake.Connection;
export type Row = Record<string, unknown>;
/** Scalar binds, or one array per row for array binding. Dates are sent as ISO strings by the SDK. */
export type Binds = ReadonlyArray<unknown>;

// Errors only, to the temp directory (not snowflake.log in the working directory).
snowflake.configure({
  logLevel: 'ERROR',
  additionalLogToConsole: false,
  logFilePath: path.join(os.tmpdir(), 'snowflake-sdk.log'),
} as Parameters<typeof snowflake.configure>[0]);

export interface TestSnowflake {
  server: SnowflakeLocal;
  url: string;
  /** Opens a connection with the defaults; `options` override them (e.g. jsTreatIntegerAsBigInt). */
  connect(options?: Partial<snowflake.ConnectionOptions>): Promise<Connection>;
  stop(): Promise<void>;
}

export function connect(url: string, options: Partial<snowflake.ConnectionOptions> = {}): Promise<Connection> {
  const conn = snowflake.createConnection({
    accessUrl: url,
    account: 'local',
    username: 'local',
    password: 'local',
    database: 'S3_ACCESS_LOGS',
    schema: 'PUBLIC',
    ...options,
  } as snowflake.ConnectionOptions);
  return new Promise((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve(conn))));
}

export async function startSnowflake(options: SnowflakeLocalOptions = {}): Promise<TestSnowflake> {
  const server = await startSnowflakeLocal({ port: 0, ...options });
  const open = new Set<Connection>();
  return {
    server,
    url: server.url,
    async connect(opts = {}) {
      const conn = await connect(server.url, opts);
      open.add(conn);
      return conn;
    },
    async stop() {
      await Promise.all([...open].map((c) => destroy(c).catch(() => undefined)));
      await server.stop();
    },
  };
}

/** Runs one statement and resolves with its rows (objects keyed by upper-case column name). */
export function exec<T = Row>(conn: Connection, sqlText: string, binds?: Binds): Promise<T[]> {
  return execStatement<T>(conn, sqlText, binds).then((r) => r.rows);
}

/** Like exec, but also returns the statement (getNumUpdatedRows(), getQueryId(), ...). */
export function execStatement<T = Row>(
  conn: Connection,
  sqlText: string,
  binds?: Binds,
): Promise<{ rows: T[]; statement: snowflake.RowStatement }> {
  return new Promise((resolve, reject) => {
    conn.execute({
      sqlText,
      ...(binds ? { binds: binds as snowflake.Binds } : {}),
      complete: (err, statement, rows) =>
        err ? reject(err) : resolve({ rows: (rows ?? []) as T[], statement: statement as snowflake.RowStatement }),
    });
  });
}

export function destroy(conn: Connection): Promise<void> {
  return new Promise((resolve, reject) => conn.destroy((err) => (err ? reject(err) : resolve())));
}
