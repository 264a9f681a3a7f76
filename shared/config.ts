/**
 * Environment → validated, typed configuration.
 *
 * Every Lambda reads its configuration once, at cold start, through a `load…Config(env)` function
 * here. Validation collects every problem before failing, so one deploy shows all bad variables at
 * once: the thrown `ConfigError` names each variable and says what it should hold. Values of
 * secret variables never appear in the message.
 *
 * ## Ingest (`loadIngestConfig`)
 *
 * | Variable                 | Required | Meaning |
 * |--------------------------|----------|---------|
 * | `LOG_BUCKETS`            | yes      | Comma-separated bucket names whose log objects may be loaded. Notifications for any other bucket are skipped (warning + `ObjectsSkipped{reason=not-allowed}`). |
 * | `LOG_PREFIXES`           | no       | Comma-separated key prefixes (e.g. `logs/,audit/`). When set, only keys starting with one of them are loaded. Empty or unset: any key. |
 * | `SNOWFLAKE_SECRET_ARN`   | one of   | ARN (or name) of the Secrets Manager secret holding the Snowflake credentials as JSON: `account, username, privateKey` or `password`, `role, warehouse, database, schema` (optional `privateKeyPassphrase`, `accessUrl`). Used in AWS. |
 * | `SNOWFLAKE_ACCOUNT`, `SNOWFLAKE_USERNAME`, `SNOWFLAKE_PASSWORD` or `SNOWFLAKE_PRIVATE_KEY`, `SNOWFLAKE_DATABASE`, `SNOWFLAKE_SCHEMA` | … or these | Credentials from the environment, for local runs. Optional with them: `SNOWFLAKE_ROLE`, `SNOWFLAKE_WAREHOUSE`, `SNOWFLAKE_PRIVATE_KEY_PASSPHRASE`, `SNOWFLAKE_ACCESS_URL` (e.g. snowflake-local's `http://127.0.0.1:PORT`). |
 * | `INSERT_CHUNK_ROWS`      | no       | Rows per INSERT round-trip, 1..3000, default 2000. 3000 × 32 columns stays under the SDK's 100 000-bind threshold, above which it would upload binds to a stage instead of sending them inline. |
 * | `MEMORY_BUDGET_MB`       | no       | MiB of heap one batch's buffered rows may take, 1..4096, default 32: each parsed line is charged its estimated heap cost (160 B + 3 B per character, functions/ingest/memory-budget.ts) across all concurrent reads, so 32 MiB (about 10 MB of typical log text) suits a 512 MB function. Objects that do not fit are streamed and committed one per transaction. |
 * | `LOG_LEVEL`              | no       | `DEBUG`, `INFO` (default), `WARN`, `ERROR`, `CRITICAL` or `SILENT` (Powertools levels, any case). |
 * | `LOAD_MODE`              | no       | `parsed` (default): typed rows into `s3_access_logs`, rejects into `s3_access_logs_rejects`. `raw`: every line verbatim into `s3_access_logs_staging` for the fallback task. Switching needs only this variable. Works with both load methods. |
 * | `LOAD_METHOD`            | no       | `pipe`: gzip CSV files + a manifest per object under `STAGING_PREFIX` in `STAGING_BUCKET`, loaded by Snowpipe (no Snowflake credentials needed). `insert` (default when unset; the deploy sets it from its `loadMethod` parameter): rows and the ledger claim in one Snowflake transaction (needs the Snowflake variables). |
 * | `STAGING_BUCKET`         | in `pipe` | Bucket the staged files are written to (the Snowpipe stage's bucket). |
 * | `STAGING_PREFIX`         | no       | Key prefix of the staged files, ending in `/`, default `pipe/`. |
 *
 * In `pipe`, the Snowflake variables are optional: when set, forced replays (`replay.force`) are
 * loaded through `insert`, which can replace rows; without them a forced replay fails with a message.
 *
 * Powertools also reads `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_METRICS_NAMESPACE` (defaults
 * `s3-access-logs-ingest` / `S3AccessLogs`).
 */

export type LoadMode = 'parsed' | 'raw';
export type LoadMethod = 'pipe' | 'insert';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';

/** Snowflake credentials as the Secrets Manager secret holds them (and as env vars map onto them). */
export interface SnowflakeCredentials {
  account: string;
  username: string;
  password?: string;
  privateKey?: string;
  privateKeyPassphrase?: string;
  role?: string;
  warehouse?: string;
  database: string;
  schema: string;
  /** Only for non-Snowflake endpoints (snowflake-local); the SDK derives it from `account` otherwise. */
  accessUrl?: string;
}

export type SnowflakeSource = { kind: 'secret'; secretId: string } | { kind: 'env'; credentials: SnowflakeCredentials };

export interface IngestConfig {
  logBuckets: string[];
  /** Empty: any key of an allowed bucket. */
  logPrefixes: string[];
  /** Required in `insert`; in `pipe` only used for forced replays. */
  snowflake?: SnowflakeSource;
  loadMethod: LoadMethod;
  /** Where `pipe` writes staged files; set whenever loadMethod is `pipe`. */
  staging?: StagingLocation;
  insertChunkRows: number;
  memoryBudgetBytes: number;
  logLevel: LogLevel;
  loadMode: LoadMode;
}

export interface StagingLocation {
  bucket: string;
  /** Ends with `/`. */
  prefix: string;
}

export const INGEST_DEFAULTS = {
  loadMethod: 'insert' as LoadMethod,
  stagingPrefix: 'pipe/',
  insertChunkRows: 2000,
  maxInsertChunkRows: 3000,
  memoryBudgetMb: 32,
  logLevel: 'INFO' as LogLevel,
  loadMode: 'parsed' as LoadMode,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Snowflake identifiers we pass on (database, schema, role, warehouse): unquoted form only. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,254}$/;
// S3 bucket naming rules (lower case, digits, dots, hyphens; 3-63 chars).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

type Env = Record<string, string | undefined>;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function present(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function integer(env: Env, name: string, dflt: number, min: number, max: number, problems: string[]): number {
  const raw = present(env, name);
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
    return dflt;
  }
  return Number(raw);
}

/**
 * Checks credentials read from the environment or a secret. `where` names the source for messages
 * (`SNOWFLAKE_` env prefix, or the secret). Never echoes a password or key.
 */
export function validateSnowflakeCredentials(
  c: Partial<Record<keyof SnowflakeCredentials, unknown>>,
  name: (field: keyof SnowflakeCredentials) => string,
): { credentials?: SnowflakeCredentials; problems: string[] } {
  const problems: string[] = [];
  const str = (f: keyof SnowflakeCredentials): string | undefined => {
    const v = c[f];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') {
      problems.push(`${name(f)} must be a string.`);
      return undefined;
    }
    return v.trim() === '' ? undefined : v;
  };
  const account = str('account');
  const username = str('username');
  const password = str('password');
  const privateKey = str('privateKey');
  const database = str('database');
  const schema = str('schema');
  const role = str('role');
  const warehouse = str('warehouse');
  const accessUrl = str('accessUrl');
  if (!account) problems.push(`${name('account')} is required (the Snowflake account identifier).`);
  if (!username) problems.push(`${name('username')} is required.`);
  if (!password && !privateKey) problems.push(`${name('privateKey')} or ${name('password')} is required.`);
  if (privateKey && !privateKey.includes('PRIVATE KEY'))
    problems.push(`${name('privateKey')} must be a PEM private key ("-----BEGIN PRIVATE KEY-----...").`);
  for (const [f, v, required] of [
    ['database', database, true],
    ['schema', schema, true],
    ['role', role, false],
    ['warehouse', warehouse, false],
  ] as const) {
    if (!v) {
      if (required) problems.push(`${name(f)} is required.`);
    } else if (!IDENTIFIER.test(v)) {
      problems.push(`${name(f)} must be a plain Snowflake identifier (letters, digits, _ and $), got "${v}".`);
    }
  }
  if (accessUrl && !/^https?:\/\/[^\s/]+/.test(accessUrl))
    problems.push(`${name('accessUrl')} must be an http(s) URL, got "${accessUrl}".`);
  if (problems.length > 0) return { problems };
  const credentials: SnowflakeCredentials = {
    account: account!,
    username: username!,
    database: database!,
    schema: schema!,
  };
  if (password) credentials.password = password;
  if (privateKey) credentials.privateKey = privateKey;
  const passphrase = str('privateKeyPassphrase');
  if (passphrase) credentials.privateKeyPassphrase = passphrase;
  if (role) credentials.role = role;
  if (warehouse) credentials.warehouse = warehouse;
  if (accessUrl) credentials.accessUrl = accessUrl;
  return { credentials, problems };
}

const ENV_NAMES: Record<keyof SnowflakeCredentials, string> = {
  account: 'SNOWFLAKE_ACCOUNT',
  username: 'SNOWFLAKE_USERNAME',
  password: 'SNOWFLAKE_PASSWORD',
  privateKey: 'SNOWFLAKE_PRIVATE_KEY',
  privateKeyPassphrase: 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE',
  role: 'SNOWFLAKE_ROLE',
  warehouse: 'SNOWFLAKE_WAREHOUSE',
  database: 'SNOWFLAKE_DATABASE',
  schema: 'SNOWFLAKE_SCHEMA',
  accessUrl: 'SNOWFLAKE_ACCESS_URL',
};

/** Snowflake connection source alone: a secret ARN, or credentials from `SNOWFLAKE_*` variables. */
export function loadSnowflakeSource(env: Env, problems: string[]): SnowflakeSource | undefined {
  const secretId = present(env, 'SNOWFLAKE_SECRET_ARN');
  if (secretId) return { kind: 'secret', secretId };
  const raw: Partial<Record<keyof SnowflakeCredentials, string>> = {};
  for (const [field, envName] of Object.entries(ENV_NAMES) as Array<[keyof SnowflakeCredentials, string]>) {
    const v = present(env, envName);
    if (v !== undefined) raw[field] = field === 'privateKey' ? v.replace(/\\n/g, '\n') : v;
  }
  if (Object.keys(raw).length === 0) {
    problems.push(
      'SNOWFLAKE_SECRET_ARN is required (or, for local runs, SNOWFLAKE_ACCOUNT, SNOWFLAKE_USERNAME, ' +
        'SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY, SNOWFLAKE_DATABASE and SNOWFLAKE_SCHEMA).',
    );
    return undefined;
  }
  const { credentials, problems: p } = validateSnowflakeCredentials(raw, (f) => ENV_NAMES[f]);
  problems.push(...p);
  return credentials ? { kind: 'env', credentials } : undefined;
}

/** LOG_BUCKETS and LOG_PREFIXES, validated: both Lambdas read them the same way. */
function logLocations(env: Env, problems: string[]): { logBuckets: string[]; logPrefixes: string[] } {
  const logBuckets = list(env.LOG_BUCKETS);
  if (logBuckets.length === 0)
    problems.push('LOG_BUCKETS is required: comma-separated names of the buckets holding the access logs.');
  for (const b of logBuckets)
    if (!BUCKET.test(b)) problems.push(`LOG_BUCKETS contains "${b}", which is not a valid S3 bucket name.`);

  const logPrefixes = list(env.LOG_PREFIXES);
  for (const p of logPrefixes)
    if (p.startsWith('/') || p.length > 1024)
      problems.push(
        `LOG_PREFIXES contains "${p}": a key prefix must not start with "/" and must be under 1024 characters.`,
      );
  return { logBuckets, logPrefixes };
}

function logLevelOf(env: Env, problems: string[]): LogLevel {
  const raw = present(env, 'LOG_LEVEL');
  if (raw === undefined) return INGEST_DEFAULTS.logLevel;
  const upper = raw.toUpperCase() as LogLevel;
  if (LOG_LEVELS.includes(upper)) return upper;
  problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${raw}".`);
  return INGEST_DEFAULTS.logLevel;
}

/** LOAD_METHOD, STAGING_BUCKET and STAGING_PREFIX, validated together. */
function loadMethodOf(env: Env, problems: string[]): { loadMethod: LoadMethod; staging?: StagingLocation } {
  let loadMethod = INGEST_DEFAULTS.loadMethod;
  const raw = present(env, 'LOAD_METHOD');
  if (raw !== undefined) {
    const lower = raw.toLowerCase();
    if (lower === 'pipe' || lower === 'insert') loadMethod = lower;
    else problems.push(`LOAD_METHOD must be "pipe" or "insert", got "${raw}".`);
  }
  const bucket = present(env, 'STAGING_BUCKET');
  const prefix = present(env, 'STAGING_PREFIX') ?? INGEST_DEFAULTS.stagingPrefix;
  if (bucket !== undefined && !BUCKET.test(bucket))
    problems.push(`STAGING_BUCKET must be a valid S3 bucket name, got "${bucket}".`);
  if (!prefix.endsWith('/') || prefix.startsWith('/') || prefix.length > 512)
    problems.push(
      `STAGING_PREFIX must end with "/", must not start with "/" and must be under 512 characters, got "${prefix}".`,
    );
  if (loadMethod !== 'pipe') return { loadMethod };
  if (bucket === undefined) {
    problems.push(
      'STAGING_BUCKET is required with LOAD_METHOD=pipe: the bucket Snowpipe loads the staged files from (or set LOAD_METHOD=insert).',
    );
    return { loadMethod };
  }
  return { loadMethod, staging: { bucket, prefix } };
}

/** Reads and validates the ingest Lambda's configuration; throws one `ConfigError` naming every bad variable. */
export function loadIngestConfig(env: Env = process.env): IngestConfig {
  const problems: string[] = [];
  const { logBuckets, logPrefixes } = logLocations(env, problems);
  const { loadMethod, staging } = loadMethodOf(env, problems);

  // In `pipe` the credentials are optional (forced replays only): absent is fine, invalid is not.
  const snowflakeGiven =
    present(env, 'SNOWFLAKE_SECRET_ARN') !== undefined ||
    Object.values(ENV_NAMES).some((n) => present(env, n) !== undefined);
  const snowflake = loadMethod === 'insert' || snowflakeGiven ? loadSnowflakeSource(env, problems) : undefined;

  const insertChunkRows = integer(
    env,
    'INSERT_CHUNK_ROWS',
    INGEST_DEFAULTS.insertChunkRows,
    1,
    INGEST_DEFAULTS.maxInsertChunkRows,
    problems,
  );
  const memoryBudgetMb = integer(env, 'MEMORY_BUDGET_MB', INGEST_DEFAULTS.memoryBudgetMb, 1, 4096, problems);

  const logLevel = logLevelOf(env, problems);

  let loadMode = INGEST_DEFAULTS.loadMode;
  const rawMode = present(env, 'LOAD_MODE');
  if (rawMode !== undefined) {
    const lower = rawMode.toLowerCase();
    if (lower === 'parsed' || lower === 'raw') loadMode = lower;
    else problems.push(`LOAD_MODE must be "parsed" or "raw", got "${rawMode}".`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  const config: IngestConfig = {
    logBuckets,
    logPrefixes,
    loadMethod,
    insertChunkRows,
    memoryBudgetBytes: memoryBudgetMb * 1024 * 1024,
    logLevel,
    loadMode,
  };
  if (snowflake) config.snowflake = snowflake;
  if (staging) config.staging = staging;
  return config;
}

/** Whether a notification's object may be loaded under this configuration. */
export function isAllowedObject(
  config: Pick<IngestConfig, 'logBuckets' | 'logPrefixes'>,
  bucket: string,
  key: string,
): boolean {
  if (!config.logBuckets.includes(bucket)) return false;
  return config.logPrefixes.length === 0 || config.logPrefixes.some((p) => key.startsWith(p));
}

// ---------------------------------------------------------------------------------------------
/**
 * ## Backfill (`loadBackfillConfig`)
 *
 * | Variable                          | Required | Meaning |
 * |-----------------------------------|----------|---------|
 * | `LOG_BUCKETS`                     | yes      | As for ingest. The first is the default `bucket` of a replay; a payload may only name one of these (the ingest Lambda would skip any other). |
 * | `LOG_PREFIXES`                    | no       | As for ingest. The first is the default `prefix` of a replay (empty if unset). |
 * | `BACKFILL_QUEUE_URL`              | yes      | URL of the ingest queue the replayed event messages go to. |
 * | `BACKFILL_DLQ_URL`                | no       | URL of the ingest queue's dead-letter queue; needed for `redriveDlq`. |
 * | `BACKFILL_MAX_RANGE_DAYS`         | no       | Longest `from`..`to` range accepted without `force`, 1..3660, default 31. |
 * | `BACKFILL_PADDING_BEFORE_MINUTES` | no       | Minutes the key-time range starts before `from`, 0..10080, default 60. |
 * | `BACKFILL_PADDING_AFTER_MINUTES`  | no       | Minutes the key-time range extends past `to`, 0..10080, default 360 (S3 delivers most access logs within a few hours, best effort). |
 * | `BACKFILL_SAFETY_MARGIN_SECONDS`  | no       | When less than this much invocation time is left, the backfill hands over to a new invocation, 5..600, default 60. |
 * | Snowflake variables               | yes      | As for ingest (`SNOWFLAKE_SECRET_ARN`, or `SNOWFLAKE_*`): used to read the load ledger. |
 * | `AWS_REGION`                      | no       | Set by Lambda; the `awsRegion` of replayed events. Default `us-east-1`. |
 * | `LOG_LEVEL`                       | no       | As for ingest. |
 */
export interface BackfillConfig {
  logBucket: string;
  logPrefix: string;
  /** Buckets a payload may name besides `logBucket`. */
  allowedBuckets: string[];
  queueUrl: string;
  dlqUrl?: string;
  region: string;
  maxRangeDays: number;
  paddingBeforeMs: number;
  paddingAfterMs: number;
  safetyMarginMs: number;
  snowflake: SnowflakeSource;
  logLevel: LogLevel;
}

export const BACKFILL_DEFAULTS = {
  maxRangeDays: 31,
  paddingBeforeMinutes: 60,
  paddingAfterMinutes: 360,
  safetyMarginSeconds: 60,
};

const QUEUE_URL = /^https?:\/\/[^\s/]+\/\S+$/;

/** Reads and validates the backfill Lambda's configuration; throws one `ConfigError` naming every bad variable. */
export function loadBackfillConfig(env: Env = process.env): BackfillConfig {
  const problems: string[] = [];
  const { logBuckets: buckets, logPrefixes } = logLocations(env, problems);
  const logPrefix = logPrefixes[0] ?? '';

  const queueUrl = present(env, 'BACKFILL_QUEUE_URL');
  if (!queueUrl) problems.push('BACKFILL_QUEUE_URL is required: the URL of the ingest queue.');
  else if (!QUEUE_URL.test(queueUrl)) problems.push(`BACKFILL_QUEUE_URL must be an SQS queue URL, got "${queueUrl}".`);
  const dlqUrl = present(env, 'BACKFILL_DLQ_URL');
  if (dlqUrl && !QUEUE_URL.test(dlqUrl)) problems.push(`BACKFILL_DLQ_URL must be an SQS queue URL, got "${dlqUrl}".`);

  const maxRangeDays = integer(env, 'BACKFILL_MAX_RANGE_DAYS', BACKFILL_DEFAULTS.maxRangeDays, 1, 3660, problems);
  const before = integer(
    env,
    'BACKFILL_PADDING_BEFORE_MINUTES',
    BACKFILL_DEFAULTS.paddingBeforeMinutes,
    0,
    10080,
    problems,
  );
  const after = integer(
    env,
    'BACKFILL_PADDING_AFTER_MINUTES',
    BACKFILL_DEFAULTS.paddingAfterMinutes,
    0,
    10080,
    problems,
  );
  const margin = integer(
    env,
    'BACKFILL_SAFETY_MARGIN_SECONDS',
    BACKFILL_DEFAULTS.safetyMarginSeconds,
    5,
    600,
    problems,
  );

  const snowflake = loadSnowflakeSource(env, problems);

  const logLevel = logLevelOf(env, problems);

  if (problems.length > 0 || !snowflake || !queueUrl) throw new ConfigError(problems);
  const config: BackfillConfig = {
    logBucket: buckets[0]!,
    logPrefix,
    allowedBuckets: buckets.slice(1),
    queueUrl,
    region: present(env, 'AWS_REGION') ?? 'us-east-1',
    maxRangeDays,
    paddingBeforeMs: before * 60_000,
    paddingAfterMs: after * 60_000,
    safetyMarginMs: margin * 1000,
    snowflake,
    logLevel,
  };
  if (dlqUrl) config.dlqUrl = dlqUrl;
  return config;
}
