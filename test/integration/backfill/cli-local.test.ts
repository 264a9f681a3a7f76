/**
 * `s3-access-logs backfill --local` end to end: the local stack (local/stack.ts, what `npm start`
 * runs) in this process, the CLI as a child process finding it through <data-dir>/stack.json.
 * Objects whose load was lost are found, enqueued, and loaded by the stack's own poller.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../../cli/backfill.ts';
import type { CliError } from '../../../cli/errors.ts';
import type { BackfillPayload } from '../../../functions/backfill/request.ts';
import { startStack, type Stack } from '../../../local/stack.ts';
import { execute } from '../../../shared/snowflake/connection.ts';
import { linesOf, makeRow } from '../ingest/fixtures.ts';

const run = promisify(execFile);
const bin = new URL('../../../bin/s3-access-logs.mjs', import.meta.url).pathname;
const dirs: string[] = [];
let stack: Stack;
let dataDir: string;
const keys: string[] = [];

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function sql<T = Record<string, unknown>>(text: string, binds: string[] = []): Promise<T[]> {
  return execute<T>(await stack.connections.get(), text, binds);
}

async function rowsPerKey(): Promise<Map<string, number>> {
  const rows = await sql<{ LOGKEY: string; N: unknown }>(
    'SELECT logkey AS "LOGKEY", COUNT(*) AS "N" FROM s3_access_logs GROUP BY logkey',
  );
  return new Map(rows.map((r) => [r.LOGKEY, Number(r.N)]));
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 's3al-backfill-'));
  const logs = mkdtempSync(path.join(tmpdir(), 's3al-backfill-logs-'));
  dirs.push(dataDir, logs);
  // 12 simple-layout objects over 2026-11-01 and -02, three lines each.
  for (let i = 0; i < 12; i++) {
    const name = `2026-11-0${1 + Math.floor(i / 6)}-${String(2 + (i % 6) * 3).padStart(2, '0')}-15-0${i % 10}-C0FFEE${String(i).padStart(4, '0')}`;
    writeFileSync(
      path.join(logs, name),
      `${linesOf([0, 1, 2].map((j) => makeRow(i * 3 + j, { requestid: `CLI${i}R${j}` }))).join('\n')}\n`,
    );
    keys.push(`logs/${name}`);
  }
  // insert: the test loses loads by deleting ledger rows, which is what a lost insert looks like. In
  // pipe, rows deleted after Snowpipe loaded them come back only by a forced replay (load history).
  stack = await startStack({ awsPort: 0, snowflakePort: 0, dataDir, logLevel: 'SILENT', loadMethod: 'insert' });
  const loaded = await stack.load({ kind: 'dir', dir: logs });
  expect(loaded.objects).toBe(12);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('backfill --local', () => {
  it('finds objects whose load was lost, enqueues only those, and the running stack loads them once', async () => {
    const before = await rowsPerKey();
    expect([...before.values()]).toEqual(Array(12).fill(3));
    // Lose four loads (as if their notifications never arrived): no ledger entry, no rows.
    const lost = keys.filter((_, i) => i % 3 === 0);
    const marks = lost.map(() => '?').join(', ');
    await sql(`DELETE FROM s3_access_logs WHERE logkey IN (${marks})`, lost);
    await sql(`DELETE FROM s3_access_logs_loads WHERE logkey IN (${marks})`, lost);

    const r = await cli(
      'backfill',
      '--local',
      '--data-dir',
      dataDir,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-02',
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim());
    expect(summary).toMatchObject({
      bucket: stack.info.logBucket,
      prefix: 'logs/',
      listed: 12,
      selected: 12,
      alreadyLoaded: 8,
      enqueued: 4,
      done: true,
    });
    expect(summary.padding).toMatchObject({
      beforeMinutes: 60,
      afterMinutes: 360,
      keyTimeFrom: '2026-10-31T23:00:00.000Z',
      keyTimeTo: '2026-11-03T06:00:00.000Z',
    });

    // The stack's poller loads them.
    const deadline = Date.now() + 60_000;
    let now = await rowsPerKey();
    while (now.size < 12 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      now = await rowsPerKey();
    }
    expect(now).toEqual(before);

    const dry = await cli(
      'backfill',
      '--local',
      '--data-dir',
      dataDir,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-02',
      '--dry-run',
    );
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('selected 12: 12 already loaded, 0 would be enqueued');
    // Two CLI processes (tsx + SDK start-up each): generous on a loaded 2-core machine.
  }, 180_000);

  it('reports a bad flag by its name (exit 2)', async () => {
    const err = (payload: BackfillPayload) =>
      runLocal(dataDir, payload).then(
        () => {
          throw new Error('expected a CliError');
        },
        (e: unknown) => e as CliError,
      );
    const backwards = await err({ from: '2026-11-03', to: '2026-11-01' });
    expect(backwards.exitCode).toBe(2);
    expect(backwards.message).toMatch(/^--from: 2026-11-03T00:00:00.000Z is not before to/);
    const big = await err({ from: '2026-01-01', to: '2026-11-01' });
    expect(big.exitCode).toBe(2);
    expect(big.message).toMatch(/^the range is .* over the maximum of 31 .*pass --force/);
  });
});
