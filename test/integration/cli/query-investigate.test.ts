/**
 * `s3-access-logs query` and `investigate` end to end: the local stack (what `npm start` runs) in this
 * process with the generated sample, the CLI as a child process finding it through <data-dir>/stack.json.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAREHOUSE_FILE } from '../../../local/stack-info.ts';
import { startStack, type Stack } from '../../../local/stack.ts';
import { execute } from '../../../shared/snowflake/connection.ts';

const run = promisify(execFile);
const bin = new URL('../../../bin/s3-access-logs.mjs', import.meta.url).pathname;
let stack: Stack;
let dataDir: string;
// No Snowflake credentials from the environment: the default warehouse must be the local one.
const env = { ...process.env, SNOWFLAKE_ACCOUNT: '', SNOWFLAKE_SECRET_ARN: '' };

async function cli(...args: string[]) {
  return cliEnv(env, ...args);
}

async function cliEnv(env: NodeJS.ProcessEnv, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function cliStdin(input: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 's3al-query-'));
  stack = await startStack({ awsPort: 0, snowflakePort: 0, dataDir, logLevel: 'SILENT' });
  const loaded = await stack.load({ kind: 'sample' });
  expect(loaded.rows).toBeGreaterThan(5000);
  // The file `snowflake-local` opens by default (test/unit/cli.test.ts checks its default).
  expect(existsSync(path.join(dataDir, WAREHOUSE_FILE))).toBe(true);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.concurrent('query', () => {
  it('runs one statement and prints a table with the row count', async () => {
    const N = (
      (await execute(await stack.connections.get(), 'SELECT count(*) AS N FROM s3_access_logs')) as Array<{ N: number }>
    )[0]!.N;
    const r = await cli('query', 'SELECT count(*) AS n FROM s3_access_logs', '--data-dir', dataDir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const shown = Number(N).toLocaleString('en-US');
    expect(r.stdout).toBe(
      `${'n'.padStart(shown.length)}\n${'-'.repeat(shown.length)}\n${shown}\n${r.stdout.split('\n')[3]}\n`,
    );
    expect(r.stdout.split('\n')[3]).toMatch(/^\(1 row, \d+ ms\)$/);
  });

  it('writes CSV and NDJSON with --format', async () => {
    const sql =
      "SELECT bucket_name, count(*) AS n FROM s3_access_logs WHERE bucket_name IN ('acme-backups', 'acme-corp-data') GROUP BY 1 ORDER BY 1";
    const csv = await cli('query', sql, '--data-dir', dataDir, '--format', 'csv');
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('BUCKET_NAME,N');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['acme-backups', 'acme-corp-data']);
    const nd = await cli('query', sql, '--data-dir', dataDir, '--format', 'ndjson');
    const rows = nd.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { BUCKET_NAME: string; N: number });
    expect(rows.map((x) => x.BUCKET_NAME)).toEqual(['acme-backups', 'acme-corp-data']);
    expect(rows.map((x) => String(x.N))).toEqual(lines.slice(1).map((l) => l.split(',')[1]));
  });

  it('runs every statement of -f FILE, and statements piped on stdin', async () => {
    const file = path.join(dataDir, 'two.sql');
    writeFileSync(
      file,
      '-- two statements\nSELECT 1 AS one;\nSELECT count(*) AS rejects FROM s3_access_logs_rejects;\n',
    );
    const r = await cli('query', '-f', file, '--data-dir', dataDir, '--format', 'ndjson');
    expect(r.code).toBe(0);
    const N = (
      (await execute(await stack.connections.get(), 'SELECT count(*) AS N FROM s3_access_logs_rejects')) as Array<{
        N: number;
      }>
    )[0]!.N;
    expect(Number(N)).toBeGreaterThan(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ ONE: 1 }, { REJECTS: Number(N) }]);
    const piped = await cliStdin(
      'SELECT 2 AS two;\nSELECT 3 AS three;\n',
      'query',
      '--data-dir',
      dataDir,
      '--format',
      'csv',
    );
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe('TWO\n2\nTHREE\n3\n');
  });

  it("shows Snowflake's error code and message in one line, exit 1", async () => {
    const r = await cli('query', 'SELECT * FROM no_such_table', '--data-dir', dataDir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^s3-access-logs: Snowflake error 002003 \(42S02\): SQL compilation error: Object 'NO_SUCH_TABLE' does not exist or not authorized\.\n$/,
    );
  });

  it('checks its flags before looking for a stack', async () => {
    const missing = path.join(dataDir, 'nope');
    const both = await cli('query', 'SELECT 1', '-f', 'x.sql', '--data-dir', missing);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give the SQL as an argument or with -f FILE, not both.');
    const noStack = await cli('query', 'SELECT 1', '--data-dir', missing);
    expect(noStack.code).toBe(1);
    expect(noStack.stderr).toContain('no local stack found');
  });
});

describe.concurrent('investigate', () => {
  it('lists the investigations with their flags and defaults', async () => {
    const r = await cli('investigate');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('who-deleted');
    expect(r.stdout).toContain('--key (default finance/payroll/2026/payroll-2026-10.csv)');
  });

  it('runs one with its defaults: the sample incident', async () => {
    const r = await cli('investigate', 'who-deleted', '--data-dir', dataDir, '--format', 'ndjson');
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      KEY: 'finance/payroll/2026/payroll-2026-10.csv',
      REMOTEIP: '203.0.113.77',
      OPERATION: 'REST.DELETE.OBJECT',
    });
  });

  it('binds --user, --prefix, --ip, --since and --until', async () => {
    const byPrefix = await cli(
      'investigate',
      'who-deleted',
      '--prefix',
      'finance/payroll/2025/',
      '--data-dir',
      dataDir,
      '--format',
      'ndjson',
    );
    const keys = byPrefix.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { KEY: string }).KEY);
    expect(keys.length).toBeGreaterThan(1);
    expect(keys.every((k) => k.startsWith('finance/payroll/2025/'))).toBe(true);

    const window = ['--since', '2026-11-18T02:07:00Z', '--until', '2026-11-18T02:20:00Z'];
    const user = await cli(
      'investigate',
      'actions-by-user',
      '--user',
      'jdoe',
      ...window,
      '--data-dir',
      dataDir,
      '--format',
      'ndjson',
    );
    expect(user.code).toBe(0);
    const ops = user.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { REMOTEIP: string; OPERATION: string; FIRST_SEEN: string; LAST_SEEN: string });
    expect(ops.map((o) => o.OPERATION).sort()).toEqual(['REST.GET.BUCKET', 'REST.GET.OBJECT']);
    expect(
      ops.every(
        (o) =>
          o.REMOTEIP === '203.0.113.77' && o.FIRST_SEEN >= '2026-11-18T02:07:00' && o.LAST_SEEN < '2026-11-18T02:20:00',
      ),
    ).toBe(true);

    const nobody = await cli('investigate', 'activity-from-ip', '--ip', '192.0.2.254', '--data-dir', dataDir);
    expect(nobody.code).toBe(0);
    expect(nobody.stdout).toContain('(no rows)');
  });

  it("runs on Snowflake when SNOWFLAKE_* credentials are set (here pointed at the stack's snowflake-local)", async () => {
    const snowflakeEnv = {
      ...env,
      SNOWFLAKE_ACCOUNT: 'local',
      SNOWFLAKE_USERNAME: 'local',
      SNOWFLAKE_PASSWORD: 'local',
      SNOWFLAKE_DATABASE: 'S3_ACCESS_LOGS',
      SNOWFLAKE_SCHEMA: 'PUBLIC',
      SNOWFLAKE_ACCESS_URL: stack.info.snowflakeUrl,
    };
    // No stack.json in this data dir: the rows can only come through the Snowflake credentials.
    const r = await cliEnv(
      snowflakeEnv,
      'investigate',
      'activity-from-ip',
      '--data-dir',
      path.join(dataDir, 'nope'),
      '--format',
      'ndjson',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { REQUESTER: string });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((x) => x.REQUESTER === 'arn:aws:iam::111122223333:user/jdoe')).toBe(true);
    const local = await cliEnv(snowflakeEnv, 'query', 'SELECT 1', '--local', '--snowflake');
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('--local cannot be combined with --snowflake; pick one warehouse.');
  });

  it('refuses a flag the investigation does not take, before looking for a stack', async () => {
    const r = await cli('investigate', 'ips-by-requests', '--user', 'jdoe', '--data-dir', path.join(dataDir, 'nope'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      's3-access-logs: ips-by-requests takes no --user (it takes --bucket, --since, --until).\nRun "s3-access-logs investigate --help" for usage.\n',
    );
  });
});
