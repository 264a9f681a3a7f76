/**
 * The contract suite's one switch: which Snowflake the tests talk to. Every contract test is
 * written once, against `ContractTarget`; only this module knows the two targets apart.
 *
 * - `snowflake-local` (the default, and always under `npm test`): started here on port 0, in
 *   memory, with fauxqs and its Snowpipe engine, the product's tables and pipes applied
 *   (local/harness/snowpipe.ts).
 * - `snowflake`, a real account: `npm run test:contract` with SNOWFLAKE_ACCOUNT set (or
 *   S3AL_CONTRACT_TARGET=snowflake). The suite creates the scratch schema
 *   S3AL_CONTRACT_<UTC time>_<random> in SNOWFLAKE_DATABASE, applies the product's DDL there and
 *   drops it at the end, so concurrent runs never share an object (docs/contract-tests.md).
 *
 * S3 is not under contract: the log and staging buckets are fauxqs's on both targets.
 */
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import snowflake from 'snowflake-sdk';
import { SESSION_SETUP } from '../../functions/ingest/handler.ts';
import { startAwsLocal, type AwsLocal } from '../../local/aws.ts';
import { exec, type Connection, type TestSnowflake } from '../../local/harness/snowflake.ts';
import { STAGING_BUCKET, STAGING_PREFIX, startSnowpipe } from '../../local/harness/snowpipe.ts';
import { loadSnowflakeSource, type SnowflakeCredentials } from '../../shared/config.ts';
import { connect, connectionOptions } from '../../shared/snowflake/connection.ts';
import { PIPE_STAGE } from '../../shared/snowflake/pipe-sql.ts';
import { applySqlFiles, fileStatements, REPO_ROOT, tableSqlFiles } from '../../shared/snowflake/sql-files.ts';

export { STAGING_BUCKET, STAGING_PREFIX };

export type TargetKind = 'snowflake-local' | 'snowflake';

export interface ContractTarget {
  kind: TargetKind;
  /** One line saying what ran, printed once per run. */
  label: string;
  /** fauxqs: S3 for the ingest handler and the pipe sink, whatever the Snowflake target. */
  aws: AwsLocal;
  /** For the product's own connection provider (shared/snowflake/connection.ts). */
  credentials: SnowflakeCredentials;
  /** A new session of its own, in the target schema, set up as the ingest Lambda sets its sessions (SESSION_SETUP). */
  connect(): Promise<Connection>;
  /** Statements waiting for a table lock right now (real account: SHOW LOCKS rows WAITING, for this user). */
  lockWaiters(): Promise<number>;
  /**
   * Loads staged files (keys in STAGING_BUCKET under STAGING_PREFIX, as the pipe sink writes them)
   * with the COPY statements of sql/pipe/03-pipes.sql, ON_ERROR = SKIP_FILE and all; resolves when
   * they are loaded. snowflake-local: its Snowpipe runs the pipes on the S3 notifications. Real
   * account: PUT into an internal stage, then each pipe's COPY as a plain statement.
   */
  loadStaged(keys: string[]): Promise<void>;
  /** snowflake-local's fault injection; transport faults cannot be injected into a real account. */
  faults?: TestSnowflake['server']['faults'];
  stop(): Promise<void>;
}

/**
 * Which target this run uses, from the environment alone (so tests can be selected at collection
 * time). S3AL_CONTRACT_TARGET: unset or `local` → snowflake-local (`npm test`); `auto` (what
 * `npm run test:contract` sets when it is unset) → a real account if SNOWFLAKE_ACCOUNT is set;
 * `snowflake` → a real account, and an error if its variables are missing.
 */
export function selectTarget(env: NodeJS.ProcessEnv = process.env): TargetKind {
  const wanted = env.S3AL_CONTRACT_TARGET?.trim() || 'local';
  if (wanted === 'local') return 'snowflake-local';
  if (wanted === 'snowflake') return 'snowflake';
  if (wanted === 'auto') return env.SNOWFLAKE_ACCOUNT?.trim() ? 'snowflake' : 'snowflake-local';
  throw new Error(`S3AL_CONTRACT_TARGET is "${wanted}"; set it to local, auto or snowflake (docs/contract-tests.md).`);
}

export function startTarget(env: NodeJS.ProcessEnv = process.env): Promise<ContractTarget> {
  return selectTarget(env) === 'snowflake' ? startRealTarget(env) : startLocalTarget(env);
}

/** Statements of a new contract session: the ingest Lambda's session settings. */
async function setUpSession(conn: Connection): Promise<Connection> {
  for (const sql of SESSION_SETUP) await exec(conn, sql);
  return conn;
}

async function startLocalTarget(env: NodeJS.ProcessEnv): Promise<ContractTarget> {
  const t = await startSnowpipe();
  const why = env.S3AL_CONTRACT_TARGET?.trim() === 'auto' ? 'SNOWFLAKE_ACCOUNT is not set' : 'the default';
  return {
    kind: 'snowflake-local',
    label: `contract suite: target snowflake-local at ${t.sf.url} (${why}; a real account was NOT tested, see docs/contract-tests.md)`,
    aws: t.aws,
    credentials: {
      account: 'local',
      username: 'local',
      password: 'local',
      database: 'S3_ACCESS_LOGS',
      schema: 'PUBLIC',
      accessUrl: t.sf.url,
    },
    connect: async () => setUpSession(await t.sf.connect()),
    lockWaiters: async () => t.sf.server.lockWaiters(),
    async loadStaged(keys) {
      await t.notify(...keys);
      await t.idle();
    },
    faults: t.sf.server.faults,
    stop: () => t.stop(),
  };
}

/** The scratch schema's name: sortable by time, unique per run, a plain identifier. */
function scratchSchema(): string {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  return `S3AL_CONTRACT_${stamp}_${randomBytes(4).toString('hex').toUpperCase()}`;
}

/** The real account's credentials from SNOWFLAKE_* (never the secret ARN), with the scratch schema. */
function realCredentials(env: NodeJS.ProcessEnv, schema: string): SnowflakeCredentials {
  const problems: string[] = [];
  const source = loadSnowflakeSource({ ...env, SNOWFLAKE_SECRET_ARN: undefined, SNOWFLAKE_SCHEMA: schema }, problems);
  if (!env.SNOWFLAKE_WAREHOUSE?.trim())
    problems.push('SNOWFLAKE_WAREHOUSE is required: the contract statements run on it.');
  if (problems.length > 0 || source?.kind !== 'env')
    throw new Error(
      `The contract suite cannot reach a real Snowflake account: it needs SNOWFLAKE_ACCOUNT, SNOWFLAKE_USERNAME, SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY, SNOWFLAKE_WAREHOUSE and SNOWFLAKE_DATABASE (never the secret ARN; docs/contract-tests.md). What was wrong: ${problems.join(' ')}`,
    );
  return source.credentials;
}

/** `COPY INTO …` of each pipe in sql/pipe/03-pipes.sql: the text after `CREATE PIPE … AS`. */
export function pipeCopyStatements(root: string = REPO_ROOT): string[] {
  return fileStatements([path.join(root, 'sql', 'pipe', '03-pipes.sql')]).map((s) => {
    const at = s.sql.search(/\bAS\s+COPY\s+INTO\b/i);
    if (at < 0) throw new Error(`${path.basename(s.file)}, statement ${s.index} is not CREATE PIPE … AS COPY INTO.`);
    return s.sql.slice(at).replace(/^AS\s+/i, '');
  });
}

async function startRealTarget(env: NodeJS.ProcessEnv): Promise<ContractTarget> {
  const schema = scratchSchema();
  const credentials = realCredentials(env, schema);
  const open = new Set<Connection>();
  const newConnection = async (): Promise<Connection> => {
    const conn = snowflake.createConnection(connectionOptions(credentials));
    await connect(conn);
    open.add(conn);
    return conn;
  };
  const aws = await startAwsLocal();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 's3al-contract-'));
  const admin = await newConnection();
  let created = false;
  const stop = async () => {
    if (created) await exec(admin, `DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await Promise.all([...open].map((c) => new Promise<void>((r) => c.destroy(() => r()))));
    await aws.stop();
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    await exec(
      admin,
      `CREATE SCHEMA ${schema} COMMENT = 's3-access-logs contract suite scratch schema; dropped by the run'`,
    );
    created = true;
    await exec(admin, `USE SCHEMA ${schema}`);
    await applySqlFiles(admin, tableSqlFiles());
    await applySqlFiles(admin, [path.join(REPO_ROOT, 'sql', 'pipe', '01-file-format.sql')]);
    // An internal stage: the deployed stage is external (S3 + storage integration), which a
    // contract run cannot assume; the pipes' COPY reads the same files from either.
    await exec(admin, `CREATE STAGE ${PIPE_STAGE} FILE_FORMAT = (FORMAT_NAME = 's3_access_logs_csv')`);
    await aws.s3.send(new CreateBucketCommand({ Bucket: STAGING_BUCKET }));
  } catch (err) {
    await stop();
    throw err;
  }
  const copies = pipeCopyStatements();
  return {
    kind: 'snowflake',
    label: `contract suite: target a REAL Snowflake account ${credentials.account}, scratch schema ${credentials.database}.${schema} (dropped at the end)`,
    aws,
    credentials,
    connect: async () => setUpSession(await newConnection()),
    async lockWaiters() {
      // This user's sessions only; another contract run of the same user at the same moment could
      // be counted too, which only lets a test go on early (its assertions are on the data).
      const rows = await exec(admin, 'SHOW LOCKS');
      return rows.filter((r) => String(r.status ?? r.STATUS).toUpperCase() === 'WAITING').length;
    },
    async loadStaged(keys) {
      for (const key of keys) {
        if (!key.startsWith(STAGING_PREFIX))
          throw new Error(`${key} is not under the staging prefix ${STAGING_PREFIX}.`);
        const rel = key.slice(STAGING_PREFIX.length);
        const local = path.join(tmp, ...rel.split('/'));
        await mkdir(path.dirname(local), { recursive: true });
        const body = await aws.s3.send(new GetObjectCommand({ Bucket: STAGING_BUCKET, Key: key }));
        await writeFile(local, await body.Body!.transformToByteArray());
        const dir = path.posix.dirname(rel);
        // snowflake-sdk uploads PUT files itself (its file transfer agent); the files are gzip already.
        // PUT keeps the file name, so each file has the stage path the pipe sink gave it.
        await exec(
          admin,
          `PUT 'file://${local}' @${PIPE_STAGE}/${dir}/ AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP`,
        );
      }
      for (const copy of copies) await exec(admin, copy);
    },
    stop,
  };
}
