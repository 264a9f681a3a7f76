/**
 * Environment → validated, typed configuration.
 *
 * Every Lambda reads its configuration once, at cold start, through a `load…Config(env)` function
 * here: one zod schema per Lambda's environment, plus the rules that span variables. Validation
 * collects every problem before failing, so one deploy shows all bad variables at
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
 * | `SNOWFLAKE_SECRET_MAX_AGE_SECONDS` | no | Seconds a secret read is reused for new logins, 0..86400, default 300 (0: read it for every login). A login the secret's credentials fail drops it at once, so a rotated secret takes effect on the next attempt. Powertools' own `POWERTOOLS_PARAMETERS_MAX_AGE` (default 5 s) is not read: this value is always passed. |
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

import { z } from 'zod';

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

export type SnowflakeSource =
  | {
      kind: 'secret';
      secretId: string;
      /** Seconds a read secret is reused for new logins; unset: `SECRET_DEFAULTS.maxAgeSeconds`. */
      maxAgeSeconds?: number;
    }
  | { kind: 'env'; credentials: SnowflakeCredentials };

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

export const SECRET_DEFAULTS = { maxAgeSeconds: 300 };

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
const QUEUE_URL = /^https?:\/\/[^\s/]+\/\S+$/;
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

type Env = Record<string, string | undefined>;

// Each schema's messages are the rest of a sentence that starts with the variable's (or secret
// field's) name: `problemsOf` puts the name in front, so one ConfigError lists every problem.
// Messages quote the value only where it is not secret.
function problemsOf(error: z.ZodError, name: (key: string) => string = (key) => key): string[] {
  return error.issues.map((issue) => `${name(String(issue.path[0]))} ${issue.message}`);
}

/** Unset and blank are the same (templates set unused parameters to ""); values are trimmed. */
function envValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

const envList = (value: unknown): unknown =>
  typeof value === 'string' || value === undefined
    ? ((envValue(value) as string | undefined)
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '') ?? [])
    : value;

const got = (issue: { input?: unknown }) => `got "${String(issue.input)}".`;

function wholeNumber(min: number, max: number, dflt: number) {
  const error = (issue: { input?: unknown }) => `must be a whole number from ${min} to ${max}, ${got(issue)}`;
  return z.preprocess(
    envValue,
    z
      .string()
      .regex(/^\d+$/, { error })
      .transform(Number)
      .pipe(z.number().min(min, { error }).max(max, { error }))
      .default(dflt),
  );
}

/** One of `values`, in any case (folded by `fold`). */
function oneOf<T extends string>(values: readonly T[], dflt: T, fold: (s: string) => string, says: string) {
  return z.preprocess(
    envValue,
    z
      .string()
      .refine((v) => values.includes(fold(v) as T), { error: (issue) => `must be ${says}, ${got(issue)}` })
      .optional()
      .transform((v) => (v === undefined ? dflt : (fold(v) as T))),
  );
}

const bucketName = (error: (issue: { input?: unknown }) => string) => z.string().regex(BUCKET, { error });
const queueUrl = z.string().regex(QUEUE_URL, { error: (issue) => `must be an SQS queue URL, ${got(issue)}` });

/** Runs a cross-variable rule only when the variables it reads are valid themselves. */
const whenValid =
  (...keys: string[]) =>
  (payload: { issues: readonly { path?: readonly PropertyKey[] }[] }) =>
    !payload.issues.some((issue) => keys.includes(String(issue.path?.[0])));

/** LOG_BUCKETS, LOG_PREFIXES and LOG_LEVEL: both Lambdas read them the same way. */
const CommonEnv = z.object({
  LOG_BUCKETS: z.preprocess(
    envList,
    z
      .array(bucketName((issue) => `contains "${String(issue.input)}", which is not a valid S3 bucket name.`))
      .min(1, { error: 'is required: comma-separated names of the buckets holding the access logs.' }),
  ),
  LOG_PREFIXES: z.preprocess(
    envList,
    z.array(
      z.string().refine((p) => !p.startsWith('/') && p.length <= 1024, {
        error: (issue) =>
          `contains "${String(issue.input)}": a key prefix must not start with "/" and must be under 1024 characters.`,
      }),
    ),
  ),
  LOG_LEVEL: oneOf(LOG_LEVELS, INGEST_DEFAULTS.logLevel, (s) => s.toUpperCase(), `one of ${LOG_LEVELS.join(', ')}`),
});

const IngestEnv = CommonEnv.extend({
  LOAD_METHOD: oneOf(['pipe', 'insert'], INGEST_DEFAULTS.loadMethod, (s) => s.toLowerCase(), '"pipe" or "insert"'),
  STAGING_BUCKET: z.preprocess(
    envValue,
    bucketName((issue) => `must be a valid S3 bucket name, ${got(issue)}`).optional(),
  ),
  STAGING_PREFIX: z.preprocess(
    envValue,
    z
      .string()
      .refine((p) => p.endsWith('/') && !p.startsWith('/') && p.length <= 512, {
        error: (issue) => `must end with "/", must not start with "/" and must be under 512 characters, ${got(issue)}`,
      })
      .default(INGEST_DEFAULTS.stagingPrefix),
  ),
  INSERT_CHUNK_ROWS: wholeNumber(1, INGEST_DEFAULTS.maxInsertChunkRows, INGEST_DEFAULTS.insertChunkRows),
  MEMORY_BUDGET_MB: wholeNumber(1, 4096, INGEST_DEFAULTS.memoryBudgetMb),
  LOAD_MODE: oneOf(['parsed', 'raw'], INGEST_DEFAULTS.loadMode, (s) => s.toLowerCase(), '"parsed" or "raw"'),
}).refine((env) => env.LOAD_METHOD !== 'pipe' || env.STAGING_BUCKET !== undefined, {
  path: ['STAGING_BUCKET'],
  error:
    'is required with LOAD_METHOD=pipe: the bucket Snowpipe loads the staged files from (or set LOAD_METHOD=insert).',
  when: whenValid('LOAD_METHOD', 'STAGING_BUCKET'),
});

/** Absent: undefined, null, "" or blanks. Kept as given otherwise (a secret's value is not trimmed). */
const absent = (v: unknown) => (v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v);

/** A credential field: a string when present; `required` is the message when it is absent. */
function credential(required: string | false, check: (s: z.ZodString) => z.ZodString = (s) => s) {
  const value = check(
    z.string({ error: (issue) => (issue.input === undefined && required ? required : 'must be a string.') }),
  );
  return z.preprocess(absent, required ? value : value.optional());
}

const identifier = (s: z.ZodString) =>
  s.regex(IDENTIFIER, {
    error: (issue) => `must be a plain Snowflake identifier (letters, digits, _ and $), ${got(issue)}`,
  });

const Credentials = z.object({
  account: credential('is required (the Snowflake account identifier).'),
  username: credential('is required.'),
  password: credential(false),
  // Never quote a key or password in a message.
  privateKey: credential(false, (s) =>
    s.includes('PRIVATE KEY', { error: 'must be a PEM private key ("-----BEGIN PRIVATE KEY-----...").' }),
  ),
  privateKeyPassphrase: credential(false),
  role: credential(false, identifier),
  warehouse: credential(false, identifier),
  database: credential('is required.', identifier),
  schema: credential('is required.', identifier),
  accessUrl: credential(false, (s) =>
    s.regex(/^https?:\/\/[^\s/]+/, { error: (issue) => `must be an http(s) URL, ${got(issue)}` }),
  ),
});

/**
 * Checks credentials read from the environment or a secret. `name` names a field for messages
 * (its `SNOWFLAKE_` variable, or the secret's field). Never echoes a password or key.
 */
export function validateSnowflakeCredentials(
  c: Partial<Record<keyof SnowflakeCredentials, unknown>>,
  name: (field: keyof SnowflakeCredentials) => string,
): { credentials?: SnowflakeCredentials; problems: string[] } {
  const parsed = Credentials.safeParse(c);
  const problems = parsed.success ? [] : problemsOf(parsed.error, (f) => name(f as keyof SnowflakeCredentials));
  if (absent(c.password) === undefined && absent(c.privateKey) === undefined)
    problems.push(`${name('privateKey')} or ${name('password')} is required.`);
  if (!parsed.success || problems.length > 0) return { problems };
  // Optional fields that were absent stay absent (not `undefined`-valued keys).
  const credentials = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  return { credentials: credentials as unknown as SnowflakeCredentials, problems };
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

const SecretEnv = z.object({
  SNOWFLAKE_SECRET_MAX_AGE_SECONDS: wholeNumber(0, 86_400, SECRET_DEFAULTS.maxAgeSeconds),
});

/** Snowflake connection source alone: a secret ARN, or credentials from `SNOWFLAKE_*` variables. */
export function loadSnowflakeSource(env: Env, problems: string[]): SnowflakeSource | undefined {
  const secretId = envValue(env.SNOWFLAKE_SECRET_ARN) as string | undefined;
  if (secretId) {
    const parsed = SecretEnv.safeParse(env);
    if (parsed.success)
      return { kind: 'secret', secretId, maxAgeSeconds: parsed.data.SNOWFLAKE_SECRET_MAX_AGE_SECONDS };
    problems.push(...problemsOf(parsed.error));
    return undefined;
  }
  const raw: Partial<Record<keyof SnowflakeCredentials, string>> = {};
  for (const [field, envName] of Object.entries(ENV_NAMES) as Array<[keyof SnowflakeCredentials, string]>) {
    const v = envValue(env[envName]) as string | undefined;
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

/** Whether any Snowflake variable is set (in `pipe` they are optional, but checked when given). */
const snowflakeGiven = (env: Env) =>
  ['SNOWFLAKE_SECRET_ARN', ...Object.values(ENV_NAMES)].some((n) => envValue(env[n]) !== undefined);

/** Reads and validates the ingest Lambda's configuration; throws one `ConfigError` naming every bad variable. */
export function loadIngestConfig(env: Env = process.env): IngestConfig {
  const parsed = IngestEnv.safeParse(env);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  // In `pipe` the credentials are optional (forced replays only): absent is fine, invalid is not.
  const loadMethod = IngestEnv.shape.LOAD_METHOD.safeParse(env.LOAD_METHOD).data ?? INGEST_DEFAULTS.loadMethod;
  const snowflake = loadMethod === 'insert' || snowflakeGiven(env) ? loadSnowflakeSource(env, problems) : undefined;
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const config: IngestConfig = {
    logBuckets: e.LOG_BUCKETS,
    logPrefixes: e.LOG_PREFIXES,
    loadMethod: e.LOAD_METHOD,
    insertChunkRows: e.INSERT_CHUNK_ROWS,
    memoryBudgetBytes: e.MEMORY_BUDGET_MB * 1024 * 1024,
    logLevel: e.LOG_LEVEL,
    loadMode: e.LOAD_MODE,
  };
  if (snowflake) config.snowflake = snowflake;
  if (e.LOAD_METHOD === 'pipe' && e.STAGING_BUCKET)
    config.staging = { bucket: e.STAGING_BUCKET, prefix: e.STAGING_PREFIX };
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

const BackfillEnv = CommonEnv.extend({
  BACKFILL_QUEUE_URL: z.preprocess(
    envValue,
    z.string({ error: 'is required: the URL of the ingest queue.' }).pipe(queueUrl),
  ),
  BACKFILL_DLQ_URL: z.preprocess(envValue, queueUrl.optional()),
  BACKFILL_MAX_RANGE_DAYS: wholeNumber(1, 3660, BACKFILL_DEFAULTS.maxRangeDays),
  BACKFILL_PADDING_BEFORE_MINUTES: wholeNumber(0, 10080, BACKFILL_DEFAULTS.paddingBeforeMinutes),
  BACKFILL_PADDING_AFTER_MINUTES: wholeNumber(0, 10080, BACKFILL_DEFAULTS.paddingAfterMinutes),
  BACKFILL_SAFETY_MARGIN_SECONDS: wholeNumber(5, 600, BACKFILL_DEFAULTS.safetyMarginSeconds),
  AWS_REGION: z.preprocess(envValue, z.string().default('us-east-1')),
});

/** Reads and validates the backfill Lambda's configuration; throws one `ConfigError` naming every bad variable. */
export function loadBackfillConfig(env: Env = process.env): BackfillConfig {
  const parsed = BackfillEnv.safeParse(env);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  const snowflake = loadSnowflakeSource(env, problems);
  if (!parsed.success || !snowflake || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const config: BackfillConfig = {
    logBucket: e.LOG_BUCKETS[0]!,
    logPrefix: e.LOG_PREFIXES[0] ?? '',
    allowedBuckets: e.LOG_BUCKETS.slice(1),
    queueUrl: e.BACKFILL_QUEUE_URL,
    region: e.AWS_REGION,
    maxRangeDays: e.BACKFILL_MAX_RANGE_DAYS,
    paddingBeforeMs: e.BACKFILL_PADDING_BEFORE_MINUTES * 60_000,
    paddingAfterMs: e.BACKFILL_PADDING_AFTER_MINUTES * 60_000,
    safetyMarginMs: e.BACKFILL_SAFETY_MARGIN_SECONDS * 1000,
    snowflake,
    logLevel: e.LOG_LEVEL,
  };
  if (e.BACKFILL_DLQ_URL) config.dlqUrl = e.BACKFILL_DLQ_URL;
  return config;
}
