/**
 * One snowflake-sdk connection per warm Lambda container, reused across invocations.
 *
 * `get()` hands out the cached connection after checking it with `isValidAsync()` (a heartbeat:
 * one round-trip per batch); a connection whose session expired or broke is destroyed and a new
 * one is opened. `Session` wraps it with a promise API and counts round-trips, which the tests use
 * to prove "a constant plus one per insert chunk".
 */
import os from 'node:os';
import path from 'node:path';
import snowflake from 'snowflake-sdk';
import type { Bind, Binds, Connection, ConnectionOptions } from 'snowflake-sdk';
import type { SnowflakeCredentials } from '../config.ts';
import type { CredentialsProvider } from './credentials.ts';

export type { Bind, Binds, Connection };

let sdkConfigured = false;
/**
 * Keep the SDK's own log to errors, never at a level that prints SQL binds. It writes to
 * `snowflake.log` in the working directory by default, which is read-only in Lambda (/var/task)
 * and litters a checkout, so it goes to the temp directory (writable in Lambda) instead.
 */
export function configureSnowflakeSdk(): void {
  if (sdkConfigured) return;
  sdkConfigured = true;
  snowflake.configure({
    logLevel: 'ERROR',
    additionalLogToConsole: false,
    logFilePath: path.join(os.tmpdir(), 'snowflake-sdk.log'),
  } as Parameters<typeof snowflake.configure>[0]);
}

/**
 * Opens the session. snowflake-sdk 3.x's connectAsync() resolves even when the login is refused
 * (the error goes only to its callback), so wait on connect()'s callback, which gets every error.
 */
export function connect(conn: Connection): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.connect((err) => (err ? reject(err) : resolve()));
  });
}

export function connectionOptions(c: SnowflakeCredentials): ConnectionOptions {
  const options: ConnectionOptions = {
    account: c.account,
    username: c.username,
    database: c.database,
    schema: c.schema,
    application: 's3-access-logs',
    // Rows come back as objects keyed by upper-case column name; we never fetch large results.
    rowMode: 'object',
  } as ConnectionOptions;
  if (c.role) options.role = c.role;
  if (c.warehouse) options.warehouse = c.warehouse;
  if (c.accessUrl) options.accessUrl = c.accessUrl;
  if (c.privateKey) {
    options.authenticator = 'SNOWFLAKE_JWT';
    options.privateKey = c.privateKey;
    if (c.privateKeyPassphrase) options.privateKeyPass = c.privateKeyPassphrase;
  } else if (c.password) {
    options.password = c.password;
  }
  return options;
}

/** Runs one statement; resolves with its rows (objects keyed by column name as Snowflake returns it). */
export function execute<T = Record<string, unknown>>(conn: Connection, sqlText: string, binds?: Binds): Promise<T[]> {
  return new Promise((resolve, reject) => {
    conn.execute({
      sqlText,
      ...(binds !== undefined ? { binds } : {}),
      complete(err, _stmt, rows) {
        if (err) reject(err);
        else resolve((rows ?? []) as T[]);
      },
    });
  });
}

/** A statement that would end after the invocation's deadline: refused, or cancelled while running. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/**
 * A connection plus a round-trip counter and an optional deadline. Past the deadline no statement
 * is sent; one still running when it passes is cancelled and the session marked broken, so the
 * caller drops the connection: Snowflake ends the session and rolls its transaction back, and no
 * transaction of this invocation outlives it holding a lock.
 */
export class Session {
  roundTrips = 0;
  /**
   * Set when a ROLLBACK failed or a statement was cancelled at the deadline: the session may still
   * be inside that transaction, where a later BEGIN starts nothing new and a COMMIT would commit
   * the abandoned claims without their rows. The caller must stop using it and drop the
   * connection (ending the session rolls it back).
   */
  broken = false;
  /** Epoch ms after which no statement may run (the invocation's timeout minus a margin). */
  deadline: number | undefined;
  constructor(
    readonly connection: Connection,
    private readonly now: () => number = Date.now,
  ) {}
  async query<T = Record<string, unknown>>(sqlText: string, binds?: Binds): Promise<T[]> {
    if (this.deadline === undefined) {
      this.roundTrips++;
      return execute<T>(this.connection, sqlText, binds);
    }
    const left = this.deadline - this.now();
    if (left <= 0) {
      this.broken = true;
      throw new DeadlineError(
        `No time left before the invocation's deadline to run ${verb(sqlText)}; the session is dropped and the message retried.`,
      );
    }
    this.roundTrips++;
    return new Promise<T[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.broken = true;
        statement.cancel(() => undefined);
        reject(
          new DeadlineError(
            `${verb(sqlText)} was still running at the invocation's deadline; it was cancelled, the session is dropped so its transaction rolls back, and the message is retried.`,
          ),
        );
      }, left);
      const statement = this.connection.execute({
        sqlText,
        ...(binds !== undefined ? { binds } : {}),
        complete(err, _stmt, rows) {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve((rows ?? []) as T[]);
        },
      });
    });
  }
}

/** The first word of a statement, for messages that must not quote binds or table contents. */
const verb = (sql: string): string => sql.trim().split(/\s+/, 1)[0]!.toUpperCase();

/** A connection that belongs to one caller until it calls `release()` or `discard()`. */
export interface Lease {
  readonly connection: Connection;
  /** Back to the pool, for the next `lease()` (after a validity check). */
  release(): void;
  /** Its session is in an unknown state: destroy it (ending the session rolls back its transaction). */
  discard(): Promise<void>;
}

export interface ConnectionProvider {
  /**
   * A connected, validated connection shared by every caller: for single statements in autocommit
   * only. A transaction must run on a `lease()`, or a concurrent caller's ROLLBACK or COMMIT would
   * end it.
   */
  get(): Promise<Connection>;
  /**
   * A connection for this caller alone (a pooled idle one, validated, or a new one). Concurrent
   * invocations sharing one provider (the local stack's concurrency) each get their own Snowflake
   * session; a warm Lambda, one invocation at a time, reuses the same one.
   */
  lease(): Promise<Lease>;
  /** Destroys the shared connection (next get() opens a new one). */
  reset(): Promise<void>;
  /** Destroys the shared and idle connections; leased ones are destroyed when given back. */
  close(): Promise<void>;
}

function destroy(conn: Connection): Promise<void> {
  return new Promise((resolve) => {
    try {
      conn.destroy(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** Opens a new connection: fresh credentials, connect, then the caller's session setup. */
function opener(credentials: CredentialsProvider, onConnect?: (conn: Connection) => Promise<void>) {
  return async (): Promise<Connection> => {
    const creds = await credentials.get();
    const conn = snowflake.createConnection(connectionOptions(creds));
    try {
      await connect(conn);
    } catch (err) {
      // A rotated secret shows up as a login failure: read it again next time.
      credentials.forget();
      throw err;
    }
    if (onConnect) await onConnect(conn);
    return conn;
  };
}

/** Connections for one caller at a time (`lease`), pooled while idle. */
function leasePool(open: () => Promise<Connection>) {
  const idle: Connection[] = [];
  let closed = false;

  async function lease(): Promise<Lease> {
    let conn: Connection | undefined;
    for (let c = idle.pop(); c && !conn; c = idle.pop()) {
      if (await c.isValidAsync()) conn = c;
      else await destroy(c);
    }
    conn ??= await open();
    let done = false;
    const leased = conn;
    return {
      connection: leased,
      release() {
        if (done) return;
        done = true;
        if (closed) void destroy(leased);
        else idle.push(leased);
      },
      async discard() {
        if (done) return;
        done = true;
        await destroy(leased);
      },
    };
  }

  return {
    lease,
    /** From now on, connections given back are destroyed. */
    markClosed() {
      closed = true;
    },
    async destroyIdle(): Promise<void> {
      await Promise.all(idle.splice(0).map(destroy));
    },
  };
}

/** The one connection every caller shares (`get`), reopened when it is no longer valid. */
function sharedConnection(open: () => Promise<Connection>) {
  let current: Promise<Connection> | undefined;

  async function get(): Promise<Connection> {
    if (current) {
      let conn: Connection | undefined;
      try {
        conn = await current;
      } catch {
        current = undefined;
      }
      if (conn) {
        if (await conn.isValidAsync()) return conn;
        current = undefined;
        await destroy(conn);
      }
    }
    current = open();
    try {
      return await current;
    } catch (err) {
      current = undefined;
      throw err;
    }
  }

  async function reset(): Promise<void> {
    const c = current;
    current = undefined;
    if (c) await destroy(await c.catch(() => undefined as unknown as Connection)).catch(() => {});
  }
  return { get, reset };
}

export function createConnectionProvider(
  credentials: CredentialsProvider,
  options: {
    /** Statements run once on every new connection (e.g. session parameters). Failures are reported, not fatal. */
    onConnect?: (conn: Connection) => Promise<void>;
  } = {},
): ConnectionProvider {
  configureSnowflakeSdk();
  const open = opener(credentials, options.onConnect);
  const shared = sharedConnection(open);
  const pool = leasePool(open);
  return {
    lease: pool.lease,
    get: shared.get,
    reset: shared.reset,
    async close() {
      pool.markClosed();
      await shared.reset();
      await pool.destroyIdle();
    },
  };
}
