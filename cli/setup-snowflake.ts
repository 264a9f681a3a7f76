/**
 * `s3-access-logs setup-snowflake`: applies the project's SQL to a real Snowflake account through
 * snowflake-sdk, with the same credentials the Lambda uses (the Secrets Manager secret, or
 * SNOWFLAKE_* variables), printing each statement as it runs.
 *
 * Two steps, because they need different credentials:
 *   --setup   sql/00-setup.sql as an administrator: database, warehouse, role, service user,
 *             grants (and, with --public-key, the user's RSA public key).
 *   (default) the table DDL, sql/01-*.sql … sql/09-*.sql (--fallback adds sql/fallback/*.sql), then
 *             sql/grants.sql, as the owner role S3_ACCESS_LOGS_ADMIN: it owns every object, and the
 *             loader role gets only the table privileges sql/grants.sql lists (least privilege:
 *             the Lambda's key can neither drop nor alter what it writes). So an administrator
 *             runs it, not the service user. --staging-url adds the objects of load method `pipe`
 *             (sql/pipe/: file format, stage, pipes; owned by the same role) and then prints the
 *             pipes' notification channel.
 *   --setup --staging-url --staging-role-arn  also creates the storage integration
 *             (sql/pipe/00-storage-integration.sql, ACCOUNTADMIN) and prints the two values of
 *             DESC INTEGRATION the next deploy needs (docs/pipe-setup.md).
 * Statement splitting and execution are shared/snowflake/sql-files.ts, the same code the local
 * stack and the tests use.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import type { Connection } from '../shared/snowflake/connection.ts';
import { ConfigError, loadSnowflakeSource, type SnowflakeSource } from '../shared/config.ts';
import { pipeStatements, STORAGE_INTEGRATION, storageIntegrationStatements } from '../shared/snowflake/pipe-sql.ts';
import {
  applyStatements,
  fileStatements,
  REPO_ROOT,
  SqlFileError,
  tableSqlFiles,
  type AppliedStatement,
} from '../shared/snowflake/sql-files.ts';
import { awsSetupHint, CliError } from './errors.ts';

/** The service user sql/00-setup.sql creates; --public-key sets its key. */
export const LOADER_USER = 'S3_ACCESS_LOGS_LOADER';
/** The role sql/00-setup.sql creates to own the schema and its objects; the DDL runs as it. */
export const OWNER_ROLE = 'S3_ACCESS_LOGS_ADMIN';
export const SETUP_SQL_FILE = path.join(REPO_ROOT, 'sql', '00-setup.sql');

export interface SetupOptions {
  setup?: boolean;
  publicKey?: string;
  fallback?: boolean;
  /** Also the optional detection schedule: sql/detections/schedule/*.sql (findings table, task). */
  schedule?: boolean;
  secret?: string;
  dryRun?: boolean;
  /** The stack's StagingUrl output (s3://bucket/prefix/): adds the `pipe` objects, or with --setup the integration. */
  stagingUrl?: string;
  /** With --setup and --staging-url: the stack's SnowflakeStagingRoleArn output, for the storage integration. */
  stagingRoleArn?: string;
  /** The storage integration's name (default s3_access_logs_staging). */
  storageIntegration?: string;
  /** Repository root holding sql/ (tests only). */
  root?: string;
}

/** Every statement that runs, in order: the files of sqlFilesFor, then the `pipe` objects or integration. */
export function statementsFor(opts: SetupOptions): AppliedStatement[] {
  const root = opts.root ?? REPO_ROOT;
  const statements = fileStatements(sqlFilesFor(opts));
  if (opts.stagingRoleArn && !(opts.setup && opts.stagingUrl)) {
    throw new CliError(
      '--staging-role-arn creates the storage integration and goes with --setup and --staging-url.',
      2,
    );
  }
  if (!opts.stagingUrl) return statements;
  try {
    if (opts.setup) {
      if (!opts.stagingRoleArn) {
        throw new CliError(
          "--setup --staging-url creates the storage integration: also pass --staging-role-arn <the stack's SnowflakeStagingRoleArn output>.",
          2,
        );
      }
      return [
        ...statements,
        ...storageIntegrationStatements(
          { url: opts.stagingUrl, roleArn: opts.stagingRoleArn, name: opts.storageIntegration },
          root,
        ),
      ];
    }
    return [
      ...statements,
      ...pipeStatements(
        { url: opts.stagingUrl, storageIntegration: opts.storageIntegration ?? STORAGE_INTEGRATION },
        root,
      ),
    ];
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message, 2);
  }
}

/** Which files run, in order. */
export function sqlFilesFor(opts: SetupOptions): string[] {
  const root = opts.root ?? REPO_ROOT;
  if (opts.setup) return [path.join(root, 'sql', '00-setup.sql')];
  const files = tableSqlFiles(root);
  if (opts.fallback) {
    const dir = path.join(root, 'sql', 'fallback');
    files.push(
      ...readdirSync(dir)
        .filter((f) => f.endsWith('.sql'))
        .sort()
        .map((f) => path.join(dir, f)),
    );
  }
  if (opts.schedule) {
    const dir = path.join(root, 'sql', 'detections', 'schedule');
    files.push(
      ...readdirSync(dir)
        .filter((f) => f.endsWith('.sql'))
        .sort()
        .map((f) => path.join(dir, f)),
    );
  }
  // Last: the loader's grants name the tables, so they must exist.
  files.push(path.join(root, 'sql', 'grants.sql'));
  return files;
}

/**
 * The body of an RSA public key (PEM or bare base64) as Snowflake's RSA_PUBLIC_KEY wants it.
 * Checked to be base64 only, because DDL takes no bind variables and it goes into a literal.
 */
export function publicKeyBody(text: string, file: string): string {
  if (/PRIVATE KEY/.test(text)) {
    throw new CliError(`${file} holds a PRIVATE key; pass the public key (rsa_key.pub) to --public-key.`, 2);
  }
  const body = text.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]{100,}={0,2}$/.test(body)) {
    throw new CliError(`${file} is not an RSA public key in PEM format ("-----BEGIN PUBLIC KEY-----...").`, 2);
  }
  return body;
}

/** The region a secret's full ARN names, so the command works whatever AWS_REGION says. */
export function secretRegion(secretId: string): string | undefined {
  return /^arn:[^:]+:secretsmanager:([^:]+):/.exec(secretId)?.[1];
}

/**
 * A Secrets Manager client factory for the secret's region. The AWS SDK is required on first use,
 * not imported with this module, so that `--help` and `--dry-run` do not pay for loading it.
 */
export function secretsClientFor(secretId: string): () => SecretsManagerClient {
  const region = secretRegion(secretId);
  return () => {
    const sdk = createRequire(import.meta.url)(
      '@aws-sdk/client-secrets-manager',
    ) as typeof import('@aws-sdk/client-secrets-manager');
    return new sdk.SecretsManagerClient(region ? { region } : {});
  };
}

export function resolveSource(opts: Pick<SetupOptions, 'secret'>, env: NodeJS.ProcessEnv): SnowflakeSource {
  if (opts.secret) return { kind: 'secret', secretId: opts.secret };
  const problems: string[] = [];
  const source = loadSnowflakeSource(env, problems);
  if (!source || problems.length) {
    throw new CliError(
      `No usable Snowflake credentials: ${problems.join(' ')} ` +
        'Pass --secret <secret ARN>, or set SNOWFLAKE_SECRET_ARN or the SNOWFLAKE_* variables.',
      2,
    );
  }
  return source;
}

/**
 * A connection provider for `source` and the SDK's execute. Loaded on demand: snowflake-sdk and the
 * AWS SDK take a quarter of a second to import, which `--help` and `--dry-run` should not pay.
 */
export async function snowflakeProvider(source: SnowflakeSource) {
  const [{ createConnectionProvider, execute }, { credentialsProvider }] = await Promise.all([
    import('../shared/snowflake/connection.ts'),
    import('../shared/snowflake/credentials.ts'),
  ]);
  const secrets = source.kind === 'secret' ? secretsClientFor(source.secretId) : undefined;
  return { provider: createConnectionProvider(credentialsProvider(source, secrets)), execute };
}

const firstLine = (sql: string) => {
  const line = sql.split('\n')[0]!.trim();
  return line.length > 90 ? `${line.slice(0, 87)}...` : line;
};

/** The DDL runs as the owner role, so the objects belong to it and not to whoever connected. */
async function useOwnerRole(conn: Connection, out: (s: string) => void): Promise<void> {
  const { execute } = await import('../shared/snowflake/connection.ts');
  const t0 = performance.now();
  await execute(conn, `USE ROLE ${OWNER_ROLE}`).catch((err: unknown) => {
    throw new CliError(
      `Could not use role ${OWNER_ROLE} (${(err as Error).message}). Run setup-snowflake as an administrator ` +
        `who holds it (sql/00-setup.sql grants it to SYSADMIN; apply that first with --setup), not as the service user ${LOADER_USER}.`,
    );
  });
  out(`ok  USE ROLE ${OWNER_ROLE}  (${Math.round(performance.now() - t0)} ms)\n`);
}

export async function setupSnowflake(
  opts: SetupOptions,
  io: { out: (s: string) => void; env?: NodeJS.ProcessEnv } = { out: (s) => process.stdout.write(s) },
): Promise<AppliedStatement[]> {
  if (opts.publicKey && !opts.setup) {
    throw new CliError("--public-key sets the service user's key and goes with --setup.", 2);
  }
  const statements = statementsFor(opts);
  const keyFile = opts.publicKey;
  const alterKey = keyFile
    ? `ALTER USER ${LOADER_USER} SET RSA_PUBLIC_KEY = '${publicKeyBody(readFileSync(keyFile, 'utf8'), keyFile)}'`
    : undefined;
  const label = (s: { file: string; index: number }) => `${path.basename(s.file)} #${s.index}`;

  if (opts.dryRun) {
    const listed: AppliedStatement[] = [];
    if (!opts.setup) io.out(`(session)  USE ROLE ${OWNER_ROLE}\n`);
    for (const s of statements) {
      listed.push(s);
      io.out(`${label(s)}  ${firstLine(s.sql)}\n`);
    }
    if (alterKey) io.out(`--public-key  ALTER USER ${LOADER_USER} SET RSA_PUBLIC_KEY = '…'\n`);
    io.out(`${listed.length + (alterKey ? 1 : 0)} statement(s); dry run, nothing executed.\n`);
    return listed;
  }

  const source = resolveSource(opts, io.env ?? process.env);
  const { provider, execute } = await snowflakeProvider(source);
  let applied: AppliedStatement[] = [];
  try {
    let conn;
    try {
      conn = await provider.get();
    } catch (err) {
      const why = err instanceof ConfigError ? err.problems.join(' ') : (awsSetupHint(err) ?? (err as Error).message);
      throw new CliError(`Could not connect to Snowflake: ${why}`);
    }
    if (!opts.setup) await useOwnerRole(conn, io.out);
    const started: AppliedStatement[] = [];
    try {
      applied = await applyStatements(conn, statements, (s) => {
        started.push(s);
        io.out(`ok  ${label(s)}  ${firstLine(s.sql)}  (${Math.round(s.ms ?? 0)} ms)\n`);
      });
    } catch (err) {
      if (err instanceof SqlFileError) {
        io.out(`FAILED  ${path.basename(err.file)} #${err.index}  ${firstLine(err.sql)}\n`);
        throw new CliError(
          `${err.message}\n${started.length} statement(s) ran before it; the files are idempotent, so fix the cause and run the command again.`,
        );
      }
      throw err;
    }
    if (alterKey) {
      const t0 = performance.now();
      // The key is a validated base64 literal; printing the statement would only add noise.
      await execute(conn, alterKey).catch((err: unknown) => {
        throw new CliError(`Setting the public key of ${LOADER_USER} failed: ${(err as Error).message}`);
      });
      io.out(
        `ok  --public-key  ALTER USER ${LOADER_USER} SET RSA_PUBLIC_KEY = '…'  (${Math.round(performance.now() - t0)} ms)\n`,
      );
    }
    io.out(`${applied.length + (alterKey ? 1 : 0)} statement(s) applied.\n`);
    if (opts.stagingUrl) await reportHandshake(conn, opts, io.out);
    return applied;
  } finally {
    await provider.close();
  }
}

/** What the next step of the `pipe` handshake needs, read back from Snowflake. */
async function reportHandshake(conn: Connection, opts: SetupOptions, out: (s: string) => void): Promise<void> {
  const { execute } = await import('../shared/snowflake/connection.ts');
  if (opts.setup) {
    const props = await execute<{ property: string; property_value: string }>(
      conn,
      `DESC INTEGRATION ${opts.storageIntegration ?? STORAGE_INTEGRATION}`,
    );
    const value = (name: string) => props.find((p) => p.property === name)?.property_value ?? '(not shown)';
    out(
      `\nNext deploy (docs/pipe-setup.md): --param="snowflakeIamUserArn=${value('STORAGE_AWS_IAM_USER_ARN')}" ` +
        `--param="snowflakeExternalId=${value('STORAGE_AWS_EXTERNAL_ID')}"\n`,
    );
    return;
  }
  const pipes = await execute<{ name: string; notification_channel: string | null }>(
    conn,
    "SHOW PIPES LIKE 'S3_ACCESS_LOGS_%'",
  );
  const channels = [...new Set(pipes.map((p) => p.notification_channel).filter(Boolean))];
  out(
    channels.length === 1
      ? `\nNext deploy (docs/pipe-setup.md): --param="snowpipeQueueArn=${channels[0]}"\n`
      : `\nSHOW PIPES reports ${channels.length} notification channels (${channels.join(', ')}); expected one for the staging bucket.\n`,
  );
}

export function register(program: Command): void {
  program
    .command('setup-snowflake')
    .description(
      `Apply the SQL in sql/ to Snowflake, printing each statement: the tables and the loader's grants (default, as role ${OWNER_ROLE}), ` +
        'or with --setup the one-time account setup (roles, service user, warehouse, database).',
    )
    .option('--setup', 'apply sql/00-setup.sql instead; run it once, as an administrator (SYSADMIN + SECURITYADMIN)')
    .option('--public-key <file>', `with --setup: set this RSA public key (PEM) on the ${LOADER_USER} user`)
    .option(
      '--fallback',
      'also apply sql/fallback/*.sql (the fallback path: stream, UDTF, task; Snowpipe objects stay manual)',
    )
    .option(
      '--schedule',
      'also apply sql/detections/schedule/*.sql: the findings table and the daily detection task (created suspended)',
    )
    .option(
      '--staging-url <url>',
      "load method pipe: the stack's StagingUrl output (s3://bucket/pipe/); adds the file format, stage and pipes (sql/pipe/)",
    )
    .option(
      '--staging-role-arn <arn>',
      "with --setup --staging-url: the stack's SnowflakeStagingRoleArn output; creates the storage integration (ACCOUNTADMIN)",
    )
    .option(
      '--storage-integration <name>',
      `with --staging-url: the storage integration's name (default ${STORAGE_INTEGRATION})`,
    )
    .option(
      '--secret <arn>',
      'read the credentials from this Secrets Manager secret (default: SNOWFLAKE_SECRET_ARN, else SNOWFLAKE_* variables)',
    )
    .option('--dry-run', 'list the statements without connecting')
    .addHelpText(
      'after',
      '\nCredentials: the same JSON secret the Lambda reads (--secret or SNOWFLAKE_SECRET_ARN; AWS\n' +
        'credentials from the usual AWS environment/profile), or SNOWFLAKE_ACCOUNT, SNOWFLAKE_USERNAME,\n' +
        'SNOWFLAKE_PRIVATE_KEY or SNOWFLAKE_PASSWORD, SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA (optional\n' +
        'SNOWFLAKE_ROLE, SNOWFLAKE_WAREHOUSE). See the README, "Deploy".\n',
    )
    .action(async (opts: SetupOptions) => {
      await setupSnowflake(opts);
    });
}
