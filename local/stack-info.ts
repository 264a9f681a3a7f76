/**
 * How a running local stack (`npm start`) is found by other commands (`backfill --local`,
 * `parity --local`): `<data-dir>/stack.json`. Kept apart from stack.ts so those commands can check
 * for a stack without loading fauxqs and DuckDB.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadSnowflakeSource, type SnowflakeCredentials } from '../shared/config.ts';

/** A failure the user can fix, with a message that says what to do. */
export class StackError extends Error {
  override name = 'StackError';
}

export const SNOWFLAKE_LOGIN = {
  account: 'local',
  username: 'local',
  password: 'local',
  database: 'S3_ACCESS_LOGS',
  schema: 'PUBLIC',
} as const;

export const STACK_FILE = 'stack.json';

/**
 * The warehouse's DuckDB file in a data dir, for `start` and `snowflake-local` alike, so either
 * one started alone on `.local` finds what the other loaded.
 */
export const WAREHOUSE_FILE = 'snowflake.duckdb';

/** Written to `<data-dir>/stack.json` while the stack runs (the contract with `backfill --local`). */
export interface StackInfo {
  awsEndpoint: string;
  region: string;
  snowflakeUrl: string;
  logBucket: string;
  logPrefix: string;
  queueUrl: string;
  dlqUrl: string;
  /** How the ingest loads (absent in stack files of older versions: insert). */
  loadMethod?: 'pipe' | 'insert';
  stagingBucket?: string;
  stagingPrefix?: string;
  pid: number;
  dataDir: string;
  snowflake: { account: string; username: string; database: string; schema: string };
  startedAt: string;
}

/** Reads a stack.json; null if absent. A file that is not ours is a corrupt data dir. */
export function readStackInfo(dataDir: string): StackInfo | null {
  const file = path.join(dataDir, STACK_FILE);
  if (!existsSync(file)) return null;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
    if (typeof info.awsEndpoint !== 'string' || typeof info.queueUrl !== 'string') throw new Error('missing fields');
    return info;
  } catch (err) {
    throw new StackError(
      `${file} is corrupt (${(err as Error).message}). Delete it if no stack is running on ${dataDir}.`,
    );
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The `SNOWFLAKE_*` variables the functions' config loaders (shared/config.ts) read, for the
 * stack's warehouse: the local stack and `--local` commands give them to the same loaders the
 * Lambdas use instead of building the configuration by hand.
 */
export function snowflakeEnv(
  accessUrl: string,
  login: { account: string; username: string; database: string; schema: string } = SNOWFLAKE_LOGIN,
): Record<string, string> {
  return {
    SNOWFLAKE_ACCOUNT: login.account,
    SNOWFLAKE_USERNAME: login.username,
    SNOWFLAKE_PASSWORD: SNOWFLAKE_LOGIN.password,
    SNOWFLAKE_DATABASE: login.database,
    SNOWFLAKE_SCHEMA: login.schema,
    SNOWFLAKE_ACCESS_URL: accessUrl,
  };
}

/** The stack `npm start` is running on this data dir, and the login to its warehouse. */
export function runningStack(dataDir: string): { info: StackInfo; snowflake: SnowflakeCredentials } {
  const dir = path.resolve(dataDir);
  const info = readStackInfo(dir);
  if (!info) {
    throw new StackError(
      `no local stack found: ${path.join(dir, STACK_FILE)} does not exist${existsSync(dir) ? '' : ` (no ${dir})`}. ` +
        'Start one with "npm start" (or pass the --data-dir it uses).',
    );
  }
  if (!pidAlive(info.pid)) {
    throw new StackError(
      `the local stack recorded in ${path.join(dir, STACK_FILE)} (pid ${info.pid}) is not running. Start it with "npm start".`,
    );
  }
  // Through the functions' own loader, as the stack's ingest configuration is.
  const problems: string[] = [];
  const source = loadSnowflakeSource(snowflakeEnv(info.snowflakeUrl, info.snowflake), problems);
  if (source?.kind !== 'env')
    throw new StackError(
      `the local stack recorded in ${path.join(dir, STACK_FILE)} has an unusable Snowflake login (${problems.join(' ')}). Restart it with "npm start".`,
    );
  return { info, snowflake: source.credentials };
}
