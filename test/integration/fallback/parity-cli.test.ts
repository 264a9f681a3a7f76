/**
 * `s3-access-logs parity --local` against a running local stack (local/stack.ts, the code behind
 * `npm start`), found through <data-dir>/stack.json, spawned as the real CLI. It must agree on
 * clean data, and fail (exit 1, naming the column) when the warehouse holds a row the UDTF would
 * not have produced or lacks one.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.ts';
import { REPO_ROOT } from '../../../cli/parity.ts';
import { execute } from '../../../shared/snowflake/connection.ts';
import { startStack, type Stack } from '../../../local/stack.ts';
import { linesOf, makeRow } from '../ingest/fixtures.ts';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/s3-access-logs.mjs'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The same CLI in-process (no second tsx start-up): exit code and captured output. */
async function cliInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => (
    (stdout += String(chunk)), true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    (stderr += String(chunk)), true
  )) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

let dir: string;
let stack: Stack;
const sql = async (text: string, binds: Array<string | number> = []) =>
  execute(await stack.connections.get(), text, binds);
const KEY_A = 'logs/2026/11/26/a.log';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parity-cli-'));
  const logs = path.join(dir, 'logs', '2026', '11', '26');
  mkdirSync(logs, { recursive: true });
  writeFileSync(
    path.join(logs, 'a.log'),
    `${[...linesOf(Array.from({ length: 30 }, (_, i) => makeRow(i))), 'a line nobody can parse'].join('\n')}\n`,
  );
  writeFileSync(
    path.join(logs, 'b.log'),
    `${linesOf(Array.from({ length: 12 }, (_, i) => makeRow(50 + i))).join('\n')}\n`,
  );
  stack = await startStack({ awsPort: 0, snowflakePort: 0, dataDir: path.join(dir, 'data'), logLevel: 'SILENT' });
  const summary = await stack.load({ kind: 'dir', dir: path.join(dir, 'logs') });
  expect(summary).toBeTruthy();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('s3-access-logs parity --local', () => {
  it('by default (the objects in S3): every line of the Lambda-typed objects agrees with the UDTF', async () => {
    const r = await cli(['parity', '--local', '--data-dir', path.join(dir, 'data')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/lines compared: +43\n/);
    expect(r.stdout).toMatch(/accepted by both: +42\n/);
    expect(r.stdout).toMatch(/rejected by both: +1\n/);
    expect(r.stdout).toMatch(/agreement: +100\.000% of lines both accept \(42\/42\)/);
    expect(r.stdout).toMatch(/missing typed: +0 /);
  }, 60_000);

  it('fails when nothing was compared instead of reporting 100%', async () => {
    const r = await cliInProcess(['parity', '--local', '--data-dir', path.join(dir, 'data'), '--from-staging']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/lines compared: +0\n/);
    expect(r.stderr).toContain(
      'nothing was compared: s3_access_logs_staging holds no line of an object the Lambda typed; drop --from-staging to compare the objects in S3.',
    );
  }, 60_000);

  it('staged lines (Snowpipe emulated): a typed row that differs from the UDTF, or a lost one, fails with the column named', async () => {
    const [row] = await sql(`SELECT logbucket FROM s3_access_logs WHERE logkey = ? LIMIT 1`, [KEY_A]);
    const bucket = String((row as Record<string, unknown>).LOGBUCKET ?? (row as Record<string, unknown>).logbucket);
    const lines = [...linesOf(Array.from({ length: 30 }, (_, i) => makeRow(i))), 'a line nobody can parse'];
    await sql(
      `INSERT INTO s3_access_logs_staging (logbucket, logkey, logline, raw, loadedat) VALUES ${lines.map(() => '(?, ?, ?, ?, CURRENT_TIMESTAMP())').join(', ')}`,
      lines.flatMap((raw, i) => [bucket, KEY_A, i + 1, raw]),
    );
    const clean = await cliInProcess(['parity', '--local', '--data-dir', path.join(dir, 'data'), '--from-staging']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/agreement: +100\.000% of lines both accept \(30\/30\)/);

    await sql('UPDATE s3_access_logs SET httpstatus = 599 WHERE logkey = ? AND logline = 3', [KEY_A]);
    const differing = await cliInProcess(['parity', '--local', '--data-dir', path.join(dir, 'data'), '--from-staging']);
    expect(differing.code).toBe(1);
    expect(differing.stdout).toMatch(/differing rows: +1\n/);
    expect(differing.stdout).toMatch(/httpstatus +1\n/);
    expect(differing.stdout).toMatch(/agreement: +96\.667%/);
    expect(differing.stderr).toMatch(/parity: 1 differing rows/);

    await sql('DELETE FROM s3_access_logs WHERE logkey = ? AND logline = 5', [KEY_A]);
    const missing = await cliInProcess([
      'parity',
      '--local',
      '--data-dir',
      path.join(dir, 'data'),
      '--from-staging',
      '--min-agreement',
      '0',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/missing typed: +1 /);
  }, 90_000);

  it('says what to do when no stack runs there', async () => {
    const r = await cliInProcess(['parity', '--local', '--data-dir', path.join(dir, 'nothing-here')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no local stack found: .*stack\.json does not exist.*npm start/);
  }, 60_000);
});
