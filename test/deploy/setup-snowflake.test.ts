// `s3-access-logs setup-snowflake`: which SQL it applies, the account setup script, the public
// key handling, its error messages, and a real run of the table DDL through snowflake-sdk against
// snowflake-local, logging in with a key pair as the Lambda does.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../cli/errors.ts';
import { main } from '../../cli/main.ts';
import {
  LOADER_USER,
  OWNER_ROLE,
  publicKeyBody,
  SETUP_SQL_FILE,
  setupSnowflake,
  sqlFilesFor,
  statementsFor,
} from '../../cli/setup-snowflake.ts';
import { snowpipeOptions, startAwsLocal } from '../../local/aws.ts';
import { splitSqlStatements, tableSqlFiles } from '../../shared/snowflake/sql-files.ts';
import { execute } from '../../shared/snowflake/connection.ts';
import { startSnowflakeLocal } from 'snowflake-local';
import snowflake from 'snowflake-sdk';

let dir = '';
let publicPem = '';
let privatePem = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 's3al-setup-'));
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(path.join(dir, 'rsa_key.pub'), publicPem);
  writeFileSync(path.join(dir, 'rsa_key.p8'), privatePem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const collect = () => {
  const lines: string[] = [];
  return { lines, io: { out: (s: string) => lines.push(s), env: {} as NodeJS.ProcessEnv } };
};

describe('sql/00-setup.sql', () => {
  const statements = splitSqlStatements(readFileSync(SETUP_SQL_FILE, 'utf8'));
  const find = (re: RegExp) => statements.filter((s) => re.test(s));

  it('creates an X-Small warehouse that suspends after 60 s and resumes on demand', () => {
    const [wh] = find(/^CREATE WAREHOUSE/);
    expect(wh).toMatch(/WAREHOUSE_SIZE\s*=\s*XSMALL/);
    expect(wh).toMatch(/AUTO_SUSPEND\s*=\s*60\b/);
    expect(wh).toMatch(/AUTO_RESUME\s*=\s*TRUE/);
    expect(wh).toMatch(/INITIALLY_SUSPENDED\s*=\s*TRUE/);
  });

  it('creates the role and a key-pair-only service user with that role, warehouse and namespace as defaults', () => {
    expect(find(/^CREATE ROLE IF NOT EXISTS S3_ACCESS_LOGS_LOADER\b/)).toHaveLength(1);
    const [user] = find(/^CREATE USER/);
    expect(user).toContain(`CREATE USER IF NOT EXISTS ${LOADER_USER}`);
    expect(user).toMatch(/TYPE\s*=\s*SERVICE/);
    expect(user).not.toMatch(/PASSWORD/);
    expect(user).toMatch(/DEFAULT_ROLE\s*=\s*S3_ACCESS_LOGS_LOADER/);
    expect(user).toMatch(/DEFAULT_WAREHOUSE\s*=\s*S3_ACCESS_LOGS_WH/);
    expect(user).toMatch(/DEFAULT_NAMESPACE\s*=\s*S3_ACCESS_LOGS\.PUBLIC/);
    expect(find(new RegExp(`^GRANT ROLE S3_ACCESS_LOGS_LOADER TO USER ${LOADER_USER}$`))).toHaveLength(1);
  });

  it('creates an owner role for the objects, the loader role and a task role, in a hierarchy under SYSADMIN', () => {
    for (const role of [OWNER_ROLE, 'S3_ACCESS_LOGS_LOADER', 'S3_ACCESS_LOGS_TASK']) {
      expect(find(new RegExp(`^CREATE ROLE IF NOT EXISTS ${role}\\b`)), role).toHaveLength(1);
    }
    // The roles exist before anything is granted to them or transferred to them.
    const firstGrant = statements.findIndex((x) => x.startsWith('GRANT'));
    expect(statements.findIndex((x) => x.startsWith('CREATE ROLE IF NOT EXISTS S3_ACCESS_LOGS_TASK'))).toBeLessThan(
      firstGrant,
    );
  });

  it('is idempotent and commented; it is not among the files the local stack applies', () => {
    for (const s of find(/^CREATE/)) expect(s).toMatch(/^CREATE \w+ IF NOT EXISTS /);
    const text = readFileSync(SETUP_SQL_FILE, 'utf8');
    const commentLines = text.split('\n').filter((l) => l.trim().startsWith('--')).length;
    expect(commentLines).toBeGreaterThanOrEqual(statements.length);
    expect(tableSqlFiles().map((f) => path.basename(f))).not.toContain('00-setup.sql');
  });
});

/**
 * Every GRANT in sql/ (the account setup, the loader's table grants, the fallback task's, and any
 * file added later), split into single privileges, against the list of what each role needs. A
 * privilege not on this list fails the test: least privilege is asserted, not hoped for.
 */
describe('grants in sql/: nothing beyond what each role needs', () => {
  const DB = 'S3_ACCESS_LOGS';
  const SCHEMA = `${DB}.PUBLIC`;
  const T = (name: string) => `${SCHEMA}.${name}`.toUpperCase();
  const LOADER = 'ROLE S3_ACCESS_LOGS_LOADER';
  const TASK = 'ROLE S3_ACCESS_LOGS_TASK';
  const ADMIN = `ROLE ${OWNER_ROLE}`;
  const table = (privs: string[], name: string, to: string) => privs.map((p) => `${p} ON TABLE ${T(name)} TO ${to}`);
  const ALLOWED: Record<string, string[]> = {
    '00-setup.sql': [
      `ROLE ${OWNER_ROLE} TO ROLE SYSADMIN`,
      `ROLE S3_ACCESS_LOGS_LOADER TO ${ADMIN}`,
      `ROLE S3_ACCESS_LOGS_TASK TO ${ADMIN}`,
      `ROLE S3_ACCESS_LOGS_LOADER TO USER ${LOADER_USER}`,
      `OWNERSHIP ON DATABASE ${DB} TO ${ADMIN}`,
      `OWNERSHIP ON SCHEMA ${SCHEMA} TO ${ADMIN}`,
      ...[ADMIN, LOADER, TASK].map((r) => `USAGE ON WAREHOUSE S3_ACCESS_LOGS_WH TO ${r}`),
      ...[LOADER, TASK].flatMap((r) => [`USAGE ON DATABASE ${DB} TO ${r}`, `USAGE ON SCHEMA ${SCHEMA} TO ${r}`]),
      `EXECUTE TASK ON ACCOUNT TO ${TASK}`,
    ],
    // insert load method and backfill: rows in, forced replays replace them; the ledger is claimed
    // and updated, never deleted from.
    'grants.sql': [
      ...table(['SELECT', 'INSERT', 'DELETE'], 's3_access_logs', LOADER),
      ...table(['SELECT', 'INSERT', 'DELETE'], 's3_access_logs_rejects', LOADER),
      ...table(['SELECT', 'INSERT', 'DELETE'], 's3_access_logs_staging', LOADER),
      ...table(['SELECT', 'INSERT', 'UPDATE'], 's3_access_logs_loads', LOADER),
    ],
    'fallback/04-grants.sql': [
      `SELECT ON STREAM ${T('s3_access_logs_stream')} TO ${TASK}`,
      ...table(['SELECT'], 's3_access_logs_staging', TASK),
      `USAGE ON FUNCTION ${T('parse_s3_access_logs')}(VARCHAR) TO ${TASK}`,
      ...table(['SELECT', 'INSERT', 'UPDATE'], 's3_access_logs_loads', TASK),
      ...table(['SELECT', 'INSERT', 'DELETE'], 's3_access_logs', TASK),
      ...table(['SELECT', 'INSERT', 'DELETE'], 's3_access_logs_rejects', TASK),
      ...table(['SELECT', 'INSERT', 'DELETE'], 's3_access_logs_task_batch', TASK),
      ...table(['SELECT', 'INSERT', 'DELETE'], 's3_access_logs_task_parsed', TASK),
      ...table(['SELECT', 'INSERT', 'DELETE'], 's3_access_logs_task_run', TASK),
      `OWNERSHIP ON TASK ${T('s3_access_logs_transformation')} TO ${TASK}`,
    ],
    // The detection schedule's task, like the fallback's, runs as its own role: the views it reads and
    // the findings it merges.
    'detections/schedule/03-grants.sql': [
      ...['s3_access_logs_classified', 's3_access_logs_enriched', 's3_access_logs_watermark'].map(
        (v) => `SELECT ON VIEW ${T(v)} TO ${TASK}`,
      ),
      ...table(['SELECT', 'INSERT', 'UPDATE'], 's3_access_logs_findings', TASK),
      `OWNERSHIP ON TASK ${T('s3_access_logs_detect')} TO ${TASK}`,
    ],
    'fallback/snowpipe/01-storage-integration.sql': [`USAGE ON INTEGRATION S3_INT_S3_ACCESS_LOGS TO ${ADMIN}`],
  };
  // Any file may let the owner role use a storage integration (the stage it creates needs it).
  const anywhere = (g: string) => new RegExp(`^USAGE ON INTEGRATION \\w+ TO ${ADMIN}$`).test(g);

  /** `GRANT a, b ON TABLE x TO ROLE r COPY CURRENT GRANTS` → ['A ON TABLE X TO ROLE R', 'B ON …']. */
  function singlePrivileges(stmt: string): string[] {
    const g = stmt
      .replace(/\s+/g, ' ')
      .replace(/ COPY CURRENT GRANTS$/i, '')
      .toUpperCase();
    const role = /^GRANT ROLE (\w+) TO (ROLE|USER) (\w+)$/.exec(g);
    if (role) return [`ROLE ${role[1]} TO ${role[2]} ${role[3]}`];
    const m = /^GRANT (.+?) ON (ACCOUNT|.+ \S+) TO (ROLE|USER) (\w+)$/.exec(g);
    if (!m) throw new Error(`unrecognised grant: ${stmt}`);
    return m[1]!.split(',').map((p) => `${p.trim()} ON ${m[2]} TO ${m[3]} ${m[4]}`);
  }
  function sqlFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((f) => {
      const full = path.join(dir, f);
      return statSync(full).isDirectory() ? sqlFiles(full) : f.endsWith('.sql') ? [full] : [];
    });
  }
  const sqlDir = path.dirname(SETUP_SQL_FILE);
  const grants = new Map(
    sqlFiles(sqlDir).map((f) => [
      path.relative(sqlDir, f).split(path.sep).join('/'),
      splitSqlStatements(readFileSync(f, 'utf8'))
        .filter((x) => /^GRANT\b/i.test(x))
        .flatMap(singlePrivileges),
    ]),
  );

  it('no file grants a privilege outside its list (no ALL, no MANAGE GRANTS, no CREATE, no future grants)', () => {
    for (const [file, privileges] of grants) {
      const allowed = new Set(ALLOWED[file] ?? []);
      expect(
        privileges.filter((p) => !allowed.has(p) && !anywhere(p)),
        file,
      ).toEqual([]);
    }
  });

  it("each role gets everything on its list: the account setup, the loader's tables and the fallback task", () => {
    for (const [file, needed] of Object.entries(ALLOWED))
      expect(grants.get(file)?.sort(), file).toEqual([...needed].sort());
  });

  it('the loader may never drop, alter or delete from the ledger, and owns nothing', () => {
    const loader = [...grants.values()].flat().filter((g) => g.endsWith(`TO ${LOADER}`));
    expect(loader.length).toBeGreaterThan(0);
    for (const g of loader)
      expect(g).toMatch(/^(USAGE ON (WAREHOUSE|DATABASE|SCHEMA)|(SELECT|INSERT|DELETE|UPDATE) ON TABLE) /);
    expect(loader).not.toContain(`DELETE ON TABLE ${T('s3_access_logs_loads')} TO ${LOADER}`);
    // Only these two roles ever receive ownership: the admin role (database, schema) and the task role (its task).
    for (const g of [...grants.values()].flat().filter((x) => x.startsWith('OWNERSHIP')))
      expect(g).toMatch(new RegExp(`TO (${ADMIN}|${TASK})$`));
  });

  it('the grant check itself catches a privilege too many', () => {
    expect(
      singlePrivileges('GRANT SELECT, TRUNCATE ON TABLE s3_access_logs_loads TO ROLE S3_ACCESS_LOGS_LOADER'),
    ).toContain(`TRUNCATE ON TABLE S3_ACCESS_LOGS_LOADS TO ${LOADER}`);
    expect(
      singlePrivileges('GRANT SELECT ON FUTURE TABLES IN SCHEMA S3_ACCESS_LOGS.PUBLIC TO ROLE S3_ACCESS_LOGS_LOADER'),
    ).toEqual([`SELECT ON FUTURE TABLES IN SCHEMA ${SCHEMA} TO ${LOADER}`]);
  });
});

describe('setup-snowflake', () => {
  it("applies the table files then the loader's grants by default, the fallback files too with --fallback, 00-setup.sql alone with --setup", () => {
    const base = (files: string[]) => files.map((f) => path.relative(path.dirname(SETUP_SQL_FILE), f));
    const all = base(sqlFilesFor({}));
    expect(all.at(-1)).toBe('grants.sql');
    const tables = all.slice(0, -1);
    expect(tables.length).toBeGreaterThan(0);
    for (const f of tables) expect(f).toMatch(/^0[1-9]-.*\.sql$/);
    expect(tables).toEqual([...tables].sort());
    const withFallback = base(sqlFilesFor({ fallback: true }));
    expect(withFallback.slice(0, tables.length)).toEqual(tables);
    expect(withFallback.at(-1)).toBe('grants.sql');
    // The task's grants come after the task they hand over.
    expect(withFallback.slice(tables.length, -1)).toEqual([
      'fallback/01-stream.sql',
      'fallback/02-udtf.sql',
      'fallback/03-task.sql',
      'fallback/04-grants.sql',
    ]);
    expect(base(sqlFilesFor({ setup: true }))).toEqual(['00-setup.sql']);
    // The detection schedule is opt-in: findings table, then the (suspended) task.
    expect(tables.some((f) => f.startsWith('detections/'))).toBe(false);
    expect(base(sqlFilesFor({ schedule: true })).slice(tables.length, -1)).toEqual([
      'detections/schedule/01-findings.sql',
      'detections/schedule/02-task.sql',
      'detections/schedule/03-grants.sql',
    ]);
  });

  it('--dry-run lists every statement, with the public key redacted, and connects to nothing', async () => {
    const { lines, io } = collect();
    const listed = await setupSnowflake({ setup: true, publicKey: path.join(dir, 'rsa_key.pub'), dryRun: true }, io);
    const count = splitSqlStatements(readFileSync(SETUP_SQL_FILE, 'utf8')).length;
    expect(listed).toHaveLength(count);
    expect(lines[0]).toBe('00-setup.sql #1  USE ROLE SECURITYADMIN\n');
    expect(lines.at(-2)).toBe(`--public-key  ALTER USER ${LOADER_USER} SET RSA_PUBLIC_KEY = '…'\n`);
    expect(lines.at(-1)).toBe(`${count + 1} statement(s); dry run, nothing executed.\n`);
    const body = publicKeyBody(publicPem, 'k');
    expect(lines.join('')).not.toContain(body.slice(0, 40));
  });

  it('runs through the CLI entry point', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['setup-snowflake', '--dry-run'])).toBe(0);
      expect(out.mock.calls.map((c) => String(c[0])).join('')).toMatch(
        /01-.*\.sql #1 {2}CREATE TABLE IF NOT EXISTS s3_access_logs/,
      );
    } finally {
      out.mockRestore();
    }
  });

  it('accepts a PEM public key and refuses a private key or anything that is not base64', () => {
    const body = publicKeyBody(publicPem, 'rsa_key.pub');
    expect(body).toMatch(/^MII[A-Za-z0-9+/]+=*$/);
    expect(body).toBe(publicPem.replace(/-----[A-Z ]+-----|\s/g, ''));
    expect(() => publicKeyBody(privatePem, 'rsa_key.p8')).toThrow(/PRIVATE key.*rsa_key\.pub/);
    expect(() => publicKeyBody(`${body.slice(0, 200)}'; DROP USER x; --`, 'evil.pub')).toThrow(/not an RSA public key/);
    expect(() => publicKeyBody('hello', 'short.pub')).toThrow(CliError);
  });

  it('explains what is missing: no credentials, or --public-key without --setup', async () => {
    const { io } = collect();
    const err = await setupSnowflake({}, io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(/--secret.*SNOWFLAKE_SECRET_ARN/s);

    const err2 = await setupSnowflake({ publicKey: path.join(dir, 'rsa_key.pub') }, io).catch((e: unknown) => e);
    expect((err2 as CliError).message).toMatch(/--public-key .* --setup/);
    expect((err2 as CliError).exitCode).toBe(2);

    // Incomplete SNOWFLAKE_* variables name what is missing, never a value.
    const err3 = await setupSnowflake(
      {},
      { out: () => {}, env: { SNOWFLAKE_ACCOUNT: 'acme', SNOWFLAKE_PASSWORD: 'hunter2' } },
    ).catch((e: unknown) => e);
    expect((err3 as CliError).message).toMatch(/SNOWFLAKE_USERNAME is required/);
    expect((err3 as CliError).message).not.toContain('hunter2');
  });
});

describe('setup-snowflake for load method pipe', () => {
  const url = 's3://acme-staging-bucket/pipe/';
  const roleArn = 'arn:aws:iam::123456789012:role/s3-access-logs-SnowflakeStagingRole-ABC';

  it('--staging-url adds file format, stage (on the storage integration) and the four pipes after the tables', () => {
    const tables = statementsFor({}).length;
    const all = statementsFor({ stagingUrl: url });
    const added = all.slice(tables).map((s) => s.sql);
    expect(added[0]).toMatch(/^CREATE FILE FORMAT IF NOT EXISTS s3_access_logs_csv\b/);
    expect(added[1]).toBe(
      "CREATE STAGE IF NOT EXISTS s3_access_logs_stage\n  URL = 's3://acme-staging-bucket/pipe/'\n  STORAGE_INTEGRATION = s3_access_logs_staging\n" +
        "  FILE_FORMAT = (FORMAT_NAME = 's3_access_logs_csv')\n  COMMENT = 's3-access-logs (load method pipe): the staging prefix the ingest Lambda writes to'",
    );
    expect(added.slice(2).map((s) => /^CREATE PIPE IF NOT EXISTS (\w+)/.exec(s)?.[1])).toEqual([
      's3_access_logs_rows_pipe',
      's3_access_logs_rejects_pipe',
      's3_access_logs_raw_pipe',
      's3_access_logs_loads_pipe',
    ]);
    for (const p of added.slice(2)) {
      expect(p).toMatch(/AUTO_INGEST = TRUE/);
      expect(p).toMatch(/ON_ERROR = SKIP_FILE$/);
      expect(p).toMatch(/METADATA\$START_SCAN_TIME/);
    }
  });

  it('--setup --staging-url --staging-role-arn adds the storage integration with the stack outputs filled in', () => {
    const added = statementsFor({ setup: true, stagingUrl: url, stagingRoleArn: roleArn })
      .slice(statementsFor({ setup: true }).length)
      .map((s) => s.sql);
    expect(added).toHaveLength(2);
    expect(added[0]).toMatch(/^CREATE STORAGE INTEGRATION IF NOT EXISTS s3_access_logs_staging\b/);
    expect(added[0]).toContain(`STORAGE_AWS_ROLE_ARN = '${roleArn}'`);
    expect(added[0]).toContain(`STORAGE_ALLOWED_LOCATIONS = ('${url}')`);
    expect(added[1]).toBe('GRANT USAGE ON INTEGRATION s3_access_logs_staging TO ROLE S3_ACCESS_LOGS_ADMIN');

    const named = statementsFor({
      setup: true,
      stagingUrl: url,
      stagingRoleArn: roleArn,
      storageIntegration: 'acme_int',
    })
      .slice(-2)
      .map((s) => s.sql);
    expect(named[0]).toMatch(/^CREATE STORAGE INTEGRATION IF NOT EXISTS acme_int\b/);
    expect(named[1]).toBe('GRANT USAGE ON INTEGRATION acme_int TO ROLE S3_ACCESS_LOGS_ADMIN');
    expect(
      statementsFor({ stagingUrl: url, storageIntegration: 'acme_int' }).find((s) => s.sql.startsWith('CREATE STAGE'))!
        .sql,
    ).toContain('STORAGE_INTEGRATION = acme_int\n');
  });

  it('refuses values that are not a staging URL or a role ARN, and options in the wrong mode, with exit code 2', () => {
    const fails = (o: Parameters<typeof statementsFor>[0], re: RegExp) => {
      let err: unknown;
      try {
        statementsFor(o);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(2);
      expect((err as CliError).message).toMatch(re);
    };
    fails({ stagingUrl: "s3://bucket/pipe/'; DROP TABLE x; --" }, /not s3:\/\/<bucket>\/<prefix>\/.*StagingUrl/);
    fails({ stagingUrl: 's3://bucket/pipe' }, /not s3:\/\/<bucket>\/<prefix>\//);
    fails(
      { setup: true, stagingUrl: url, stagingRoleArn: "arn:aws:iam::1:role/x'" },
      /not arn:aws:iam::<12-digit account>:role/,
    );
    fails({ setup: true, stagingUrl: url }, /also pass --staging-role-arn/);
    fails({ stagingRoleArn: roleArn }, /goes with --setup and --staging-url/);
    fails({ stagingUrl: url, storageIntegration: 'x y' }, /not a plain Snowflake identifier/);
  });

  it('applies the pipe objects to snowflake-local and prints the notification channel for the next deploy; a second run changes nothing', async () => {
    const aws = await startAwsLocal();
    const queue = await aws.createQueue('pipes');
    const queueArn = queue.arn;
    const sf = await startSnowflakeLocal({
      port: 0,
      snowpipe: snowpipeOptions(aws, queue, 100),
    });
    try {
      const env = {
        SNOWFLAKE_ACCOUNT: 'local',
        SNOWFLAKE_USERNAME: 'local',
        SNOWFLAKE_PASSWORD: 'local',
        SNOWFLAKE_DATABASE: 'S3_ACCESS_LOGS',
        SNOWFLAKE_SCHEMA: 'PUBLIC',
        SNOWFLAKE_ACCESS_URL: sf.url,
      };
      for (let round = 1; round <= 2; round++) {
        const lines: string[] = [];
        const applied = await setupSnowflake({ stagingUrl: url }, { out: (l) => lines.push(l), env });
        expect(applied.at(-1)!.sql).toMatch(/^CREATE PIPE IF NOT EXISTS s3_access_logs_loads_pipe/);
        expect(lines.at(-1)).toBe(`\nNext deploy (docs/pipe-setup.md): --param="snowpipeQueueArn=${queueArn}"\n`);
      }
    } finally {
      await sf.stop();
      await aws.stop();
    }
  });
});

describe('setup-snowflake against snowflake-local', () => {
  it('applies every table statement with key-pair credentials from SNOWFLAKE_* variables, reporting each; a second run changes nothing', async () => {
    const sf = await startSnowflakeLocal({ port: 0, users: [{ name: LOADER_USER, publicKey: publicPem }] });
    try {
      const env = {
        SNOWFLAKE_ACCOUNT: 'local',
        SNOWFLAKE_USERNAME: LOADER_USER,
        // As a one-line variable, the way a shell or CI secret usually carries a PEM.
        SNOWFLAKE_PRIVATE_KEY: privatePem.replace(/\n/g, '\\n'),
        SNOWFLAKE_DATABASE: 'S3_ACCESS_LOGS',
        SNOWFLAKE_SCHEMA: 'PUBLIC',
        SNOWFLAKE_ACCESS_URL: sf.url,
      };
      const expected = [...tableSqlFiles(), path.join(path.dirname(SETUP_SQL_FILE), 'grants.sql')].flatMap((f) =>
        splitSqlStatements(readFileSync(f, 'utf8')),
      );
      for (let round = 1; round <= 2; round++) {
        const lines: string[] = [];
        const applied = await setupSnowflake({}, { out: (l) => lines.push(l), env });
        expect(applied.map((a) => a.sql)).toEqual(expected);
        // The owner role first, so that the objects are its own; then each statement.
        expect(lines[0]).toMatch(new RegExp(`^ok  USE ROLE ${OWNER_ROLE} `));
        expect(lines.filter((l) => l.startsWith('ok  '))).toHaveLength(expected.length + 1);
        expect(lines.at(-1)).toBe(`${expected.length} statement(s) applied.\n`);
        expect(lines.join('')).not.toContain('PRIVATE KEY');
      }
      const db = snowflake.createConnection({
        accessUrl: sf.url,
        account: 'local',
        username: LOADER_USER,
        authenticator: 'SNOWFLAKE_JWT',
        privateKey: privatePem,
        database: 'S3_ACCESS_LOGS',
        schema: 'PUBLIC',
      });
      await db.connectAsync();
      try {
        for (const table of [
          's3_access_logs',
          's3_access_logs_rejects',
          's3_access_logs_loads',
          's3_access_logs_staging',
        ]) {
          const rows = await execute<Record<string, unknown>>(db, `SELECT COUNT(*) AS N FROM ${table}`);
          expect(Number(Object.values(rows[0]!)[0]), table).toBe(0);
        }
      } finally {
        await new Promise<void>((r) => db.destroy(() => r()));
      }

      // Connected as someone who may not use the owner role (the service user, in Snowflake):
      // nothing is applied, and the message says who should run it.
      sf.faults.failStatement(/^USE ROLE/, {
        code: '002043',
        sqlState: '02000',
        message: `SQL compilation error:\nRole '${OWNER_ROLE}' does not exist or not authorized.`,
      });
      const denied = await setupSnowflake({}, { out: () => {}, env }).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(CliError);
      expect((denied as CliError).message).toMatch(
        new RegExp(
          `^Could not use role ${OWNER_ROLE} .*Run setup-snowflake as an administrator who holds it.*not as the service user ${LOADER_USER}\\.$`,
          's',
        ),
      );

      // A wrong key is a connection failure with the reason, exit code 1.
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const err = await setupSnowflake({}, { out: () => {}, env: { ...env, SNOWFLAKE_PRIVATE_KEY: other } }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(1);
      expect((err as CliError).message).toMatch(/^Could not connect to Snowflake: /);
    } finally {
      await sf.stop();
    }
  });
});
