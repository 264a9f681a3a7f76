/**
 * snowflake-local: enough of Snowflake's HTTP protocol for the unmodified snowflake-sdk, executing
 * on an embedded DuckDB. Start it, then connect with
 *   snowflake.createConnection({ accessUrl: url, account: 'local', username: 'local',
 *     password: 'local', database: 'S3_ACCESS_LOGS', schema: 'PUBLIC' })
 */
import type { AddressInfo } from 'node:net';
import type { SnowflakeLocalUser } from './auth.ts';
import { Faults } from './faults.ts';
import { createHttpServer } from './server.ts';
import { SnowpipeEngine, type Snowpipe, type SnowpipeOptions } from './snowpipe/engine.ts';
import { Warehouse } from './warehouse.ts';

export type { SnowflakeLocalUser } from './auth.ts';
export { Faults } from './faults.ts';
export type { Snowpipe, SnowpipeOptions } from './snowpipe/engine.ts';

export interface SnowflakeLocalOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** DuckDB file for the S3_ACCESS_LOGS database; omitted = in memory. */
  dbPath?: string;
  /** When given, only these users can log in, with their password or key pair. */
  users?: SnowflakeLocalUser[];
  /** At most how long MERGE/UPDATE/DELETE wait for another transaction's table lock (default 60 s); a session's shorter LOCK_TIMEOUT applies. */
  lockTimeoutMs?: number;
  /** How long a detached transaction may block another's lock before it is aborted (default 5 min, Snowflake's). */
  detachedAbortMs?: number;
  /**
   * Snowpipe auto-ingest: poll this SQS queue for S3 event notifications and load the files into
   * the pipes whose stage covers them (README.md, "Snowpipe"). Without it, pipes can
   * be created and shown but nothing loads.
   */
  snowpipe?: SnowpipeOptions;
}

export interface SnowflakeLocal {
  url: string;
  port: number;
  faults: Faults;
  /** The auto-ingest engine; without the snowpipe option, idle() resolves at once (nothing listens). */
  snowpipe: Pick<Snowpipe, 'idle'>;
  /** Statements waiting for another transaction's table lock right now. */
  lockWaiters(): number;
  stop(): Promise<void>;
}

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} on 127.0.0.1 is already in use`);
    this.name = 'PortInUseError';
  }
}

export async function startSnowflakeLocal(opts: SnowflakeLocalOptions = {}): Promise<SnowflakeLocal> {
  const faults = new Faults();
  const warehouse = await Warehouse.open({
    dbPath: opts.dbPath,
    faults,
    lockTimeoutMs: opts.lockTimeoutMs,
    detachedAbortMs: opts.detachedAbortMs,
  });
  const server = createHttpServer({ warehouse, faults, users: opts.users });
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new PortInUseError(opts.port ?? 0) : err),
      );
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    await warehouse.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const engine = opts.snowpipe
    ? await SnowpipeEngine.start(
        opts.snowpipe,
        warehouse.catalog,
        warehouse.instance,
        () => {
          warehouse.commitSeq++;
        },
        warehouse.columnCache,
      )
    : null;
  let stopped: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    snowpipe: { idle: () => (engine ? engine.idle() : Promise.resolve()) },
    lockWaiters: () => warehouse.locks.waiting(),
    stop: () =>
      (stopped ??= (async () => {
        await engine?.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await warehouse.close();
      })()),
  };
}
