/**
 * Where `query` and `investigate` run their SQL: the warehouse of the local stack `npm start` runs
 * (found through <data-dir>/stack.json, like `backfill --local`), or Snowflake with the credentials
 * `setup-snowflake` takes (--secret, SNOWFLAKE_SECRET_ARN or the SNOWFLAKE_* variables).
 * Without --local or --snowflake: Snowflake when credentials for it are configured, else local.
 */
import type { Command } from 'commander';
import type { SnowflakeSource } from '../shared/config.ts';
import type { Binds, Connection } from '../shared/snowflake/connection.ts';
import { awsSetupHint, CliError } from './errors.ts';
import { localStack } from './local-stack.ts';

export interface WarehouseOptions {
  local?: boolean;
  snowflake?: boolean;
  dataDir: string;
  secret?: string;
}

export interface QueryOutput {
  columns: string[];
  rows: Array<Record<string, unknown>>;
  ms: number;
}

export interface Warehouse {
  /** "the local stack (http://127.0.0.1:8085)" or "Snowflake account xy12345". */
  where: string;
  run(sqlText: string, binds?: Array<string | null>): Promise<QueryOutput>;
  close(): Promise<void>;
}

export function addWarehouseOptions(cmd: Command): Command {
  return cmd
    .option(
      '--local',
      'use the warehouse of the local stack "npm start" runs (the default without Snowflake credentials)',
    )
    .option(
      '--snowflake',
      'use Snowflake: credentials from --secret, SNOWFLAKE_SECRET_ARN or the SNOWFLAKE_* variables (as setup-snowflake)',
    )
    .option('--data-dir <dir>', 'data dir of the local stack (where stack.json is)', '.local')
    .option('--secret <arn>', 'with Snowflake: read the credentials from this Secrets Manager secret');
}

/** Which warehouse, decided from the flags alone (checked before anything is looked up). */
export function warehouseKind(opts: WarehouseOptions, env: NodeJS.ProcessEnv = process.env): 'local' | 'snowflake' {
  if (opts.local && (opts.snowflake || opts.secret))
    throw new CliError(
      `--local cannot be combined with ${opts.snowflake ? '--snowflake' : '--secret'}; pick one warehouse.`,
      2,
    );
  if (opts.local) return 'local';
  if (opts.snowflake || opts.secret) return 'snowflake';
  return env.SNOWFLAKE_SECRET_ARN || env.SNOWFLAKE_ACCOUNT ? 'snowflake' : 'local';
}

/** "Snowflake error 002003 (42S02): ...": the code and message a Snowflake user can look up. */
export function snowflakeErrorMessage(err: unknown): string {
  const e = err as { code?: string | number; sqlState?: string; message?: string };
  const code = e?.code !== undefined && /^\d+$/.test(String(e.code)) ? ` ${String(e.code).padStart(6, '0')}` : '';
  const state = e?.sqlState ? ` (${e.sqlState})` : '';
  return `Snowflake error${code}${state}: ${(e?.message ?? String(err)).trim().replace(/\s*\n\s*/g, ' ')}`;
}

function run(conn: Connection, sqlText: string, binds?: Binds): Promise<QueryOutput> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    conn.execute({
      sqlText,
      ...(binds?.length ? { binds } : {}),
      complete(err, stmt, rows) {
        if (err) return reject(new CliError(snowflakeErrorMessage(err), 1));
        const columns = (stmt.getColumns() ?? []).map((c) => c.getName());
        resolve({ columns, rows: (rows ?? []) as Array<Record<string, unknown>>, ms: performance.now() - t0 });
      },
    });
  });
}

export async function openWarehouse(opts: WarehouseOptions): Promise<Warehouse> {
  const kind = warehouseKind(opts);
  const { configureSnowflakeSdk } = await import('../shared/snowflake/connection.ts');
  configureSnowflakeSdk();
  if (kind === 'local') {
    const { info, snowflake: credentials } = localStack(opts.dataDir);
    const { default: snowflake } = await import('snowflake-sdk');
    const { connect, connectionOptions } = await import('../shared/snowflake/connection.ts');
    const conn = snowflake.createConnection(connectionOptions(credentials));
    try {
      await connect(conn);
    } catch (err) {
      throw new CliError(
        `cannot connect to the local warehouse at ${info.snowflakeUrl} (${(err as Error).message}); is "npm start" still running?`,
        1,
      );
    }
    return {
      where: `the local stack (${info.snowflakeUrl})`,
      run: (sql, binds) => run(conn, sql, binds),
      close: () => new Promise<void>((resolve) => conn.destroy(() => resolve())),
    };
  }
  const { resolveSource, snowflakeProvider } = await import('./setup-snowflake.ts');
  const source: SnowflakeSource = resolveSource(opts, process.env);
  const { provider } = await snowflakeProvider(source);
  let conn: Connection;
  try {
    conn = await provider.get();
  } catch (err) {
    const { ConfigError } = await import('../shared/config.ts');
    const why = err instanceof ConfigError ? err.problems.join(' ') : (awsSetupHint(err) ?? snowflakeErrorMessage(err));
    throw new CliError(`could not connect to Snowflake: ${why}`, 1);
  }
  return {
    where: 'Snowflake',
    run: (sql, binds) => run(conn, sql, binds),
    close: () => provider.close(),
  };
}
