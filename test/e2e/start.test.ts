import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatLine } from '../../shared/access-log/index.ts';
import { generateSample } from '../../local/sample/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repoRoot, 'bin', 's3-access-logs.mjs');
const dirs: string[] = [];
const tempDir = (name: string) => {
  const d = mkdtempSync(path.join(tmpdir(), `s3al-e2e-${name}-`));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(args: string[], timeoutMs = 80_000): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

/** The table printed under a query heading, as lines (header, rule, rows). */
function section(stdout: string, nameStart: string): string[] {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`== ${nameStart}`));
  expect(at, `query "${nameStart}" in output`).toBeGreaterThanOrEqual(0);
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (l === '' || l.startsWith('== ') || l.startsWith('{')) break;
    out.push(l);
  }
  return out;
}

const truth = generateSample().truth;

describe('s3-access-logs start (e2e)', () => {
  const dataDir = tempDir('data');
  let first: Run;

  it('loads the sample end to end; the summary matches the ground truth and the queries find the incident', async () => {
    first = await run(['start', '--once', '--json', '--aws-port', '0', '--snowflake-port', '0', '--data-dir', dataDir]);
    expect(first.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(first.code, first.stderr).toBe(0);
    const summary = lastJson(first.stdout);
    expect(Object.keys(summary)).toEqual([
      'objects',
      'rows',
      'rejects',
      'skipped',
      'dlq',
      'method',
      'filesLoaded',
      'filesFailed',
    ]);
    // pipe (the default): rows, rejects and manifest of every object, each a staged file Snowpipe loaded.
    expect(summary).toEqual({
      objects: truth.objects,
      rows: truth.rows,
      rejects: truth.rejects,
      skipped: 0,
      dlq: 0,
      method: 'pipe',
      filesLoaded: 3 * truth.objects,
      filesFailed: 0,
    });
    expect(summary.rows + summary.rejects).toBe(truth.lines);

    const { incident } = truth;
    const deleted = section(first.stdout, 'Who deleted which object');
    expect(deleted.length).toBe(3); // header, rule, one delete
    expect(deleted[2]).toContain(incident.newIp);
    expect(deleted[2]).toContain(incident.principal);
    expect(deleted[2]).toContain('finance/payroll/2026/payroll-2026-10.csv');
    expect(deleted[2]).toContain('REST.DELETE.OBJECT');

    const batchDeleted = section(first.stdout, 'Who deleted a given object');
    expect(batchDeleted[2]).toMatch(
      new RegExp(
        `BATCH\\.DELETE\\.OBJECT\\s+${incident.principal.replace(/[/.]/g, '\\$&')}\\s+${incident.newIp.replace(/\./g, '\\.')}`,
      ),
    );

    // The new IP tops the traffic ranking, the principal tops the downloaders.
    expect(section(first.stdout, 'IPs by traffic')[2]!.startsWith(`${incident.newIp} `)).toBe(true);
    const top = section(first.stdout, 'Top downloaders by bytes')[2]!;
    expect(top.startsWith(`${incident.principal} `)).toBe(true);
    const principalBytes = generateSample()
      .objects.flatMap((o) => o.lines)
      .filter(
        (l) =>
          l.row?.requester === incident.principal &&
          l.row.operation === 'REST.GET.OBJECT' &&
          [200, 206].includes(l.row.httpstatus ?? 0),
      )
      .reduce((sum, l) => sum + (l.row!.bytessent ?? 0), 0);
    expect(principalBytes).toBeGreaterThan(incident.downloadedBytes);
    expect(top).toContain(` ${principalBytes.toLocaleString('en-US')}`);
    // The principal's activity shows the office IP first, then the new one.
    const actions = section(first.stdout, 'All actions for a specific user').slice(2).join('\n');
    expect(actions.indexOf(incident.usualIp)).toBeGreaterThanOrEqual(0);
    expect(actions.indexOf(incident.newIp)).toBeGreaterThan(actions.indexOf(incident.usualIp));
    expect(section(first.stdout, 'Access denied errors').length).toBeGreaterThan(3);
    expect(section(first.stdout, 'Anonymous requests').join('\n')).toContain('WEBSITE.GET.OBJECT');
    // It ends with the findings: every planted incident, named by principal and IP, and nothing else.
    const findings = first.stdout.slice(first.stdout.indexOf('Findings for '));
    for (const p of truth.planted) {
      const found = section(findings, `${p.detection}  (`).join('\n');
      for (const part of [p.principal, p.ip, p.bucket]) if (part) expect(found, p.detection).toContain(part);
    }
    expect(findings).toContain(`\n${truth.planted.length} findings from 13 detections.`);
    // The stack file is removed on a clean stop.
    expect(existsSync(path.join(dataDir, 'stack.json'))).toBe(false);
  });

  it('a second run on the same data dir loads nothing twice', async () => {
    expect(first?.code).toBe(0);
    const second = await run([
      'start',
      '--once',
      '--json',
      '--aws-port',
      '0',
      '--snowflake-port',
      '0',
      '--data-dir',
      dataDir,
    ]);
    expect(second.code, second.stderr).toBe(0);
    expect(lastJson(second.stdout)).toEqual({
      objects: 0,
      rows: 0,
      rejects: 0,
      skipped: truth.objects,
      dlq: 0,
      method: 'pipe',
      filesLoaded: 0,
      filesFailed: 0,
    });
    // The queries still see exactly one copy.
    expect(section(second.stdout, 'Who deleted which object').length).toBe(3);
    // insert on the same data dir finds every object in the ledger the manifests filled.
    const third = await run([
      'start',
      '--once',
      '--json',
      '--aws-port',
      '0',
      '--snowflake-port',
      '0',
      '--data-dir',
      dataDir,
      '--load-method',
      'insert',
    ]);
    expect(third.code, third.stderr).toBe(0);
    expect(lastJson(third.stdout)).toEqual({
      objects: 0,
      rows: 0,
      rejects: 0,
      skipped: truth.objects,
      dlq: 0,
      method: 'insert',
    });
    // Two whole `start` runs in one test: the suite's 60 s default was hit on a loaded 2-core machine.
  }, 180_000);

  it('loads --logs files; lines that are not log records become rejects', async () => {
    const logs = tempDir('logs');
    const one = generateSample({ seed: 'user files', days: 1 }).objects[0]!;
    mkdirSync(path.join(logs, 'sub dir'));
    writeFileSync(path.join(logs, '2026-11-20-10-00-00-AAAABBBBCCCCDDDD'), one.body);
    const good = one.lines.find((l) => l.row)!.row!;
    writeFileSync(
      path.join(logs, 'sub dir', 'mixed.log'),
      `${formatLine(good)}\nnot a log line\n\n${formatLine({ ...good, requestid: 'X1' })}\r\n`,
    );
    const r = await run([
      'start',
      '--once',
      '--json',
      '--aws-port',
      '0',
      '--snowflake-port',
      '0',
      '--data-dir',
      tempDir('data2'),
      '--logs',
      logs,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toEqual({
      objects: 2,
      rows: one.rows + 2,
      rejects: one.rejects + 1,
      skipped: 0,
      dlq: 0,
      method: 'pipe',
      filesLoaded: 6,
      filesFailed: 0,
    });
  });

  it('fails with one clear message and exit 1 on a port in use, an unreadable --logs, a corrupt data dir', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const busy = (server.address() as { port: number }).port;
    const missing = path.join(tempDir('nologs'), 'nope');
    const corrupt = tempDir('corrupt');
    writeFileSync(path.join(corrupt, 'snowflake.duckdb'), 'this is not a DuckDB database\n'.repeat(200));
    // A stack.json naming a live process (this test's): another stack holds the data dir.
    const taken = tempDir('taken');
    writeFileSync(
      path.join(taken, 'stack.json'),
      JSON.stringify({ awsEndpoint: 'http://127.0.0.1:1', queueUrl: 'q', pid: process.pid }),
    );
    // Independent failures: run them side by side to keep the suite short.
    const [awsBusy, sfBusy, noLogs, bad, running] = await Promise.all([
      run(['start', '--once', '--aws-port', String(busy), '--snowflake-port', '0', '--data-dir', tempDir('busy')]),
      run(['start', '--once', '--aws-port', '0', '--snowflake-port', String(busy), '--data-dir', tempDir('busy2')]),
      run([
        'start',
        '--once',
        '--aws-port',
        '0',
        '--snowflake-port',
        '0',
        '--data-dir',
        tempDir('d3'),
        '--logs',
        missing,
      ]),
      run(['start', '--once', '--aws-port', '0', '--snowflake-port', '0', '--data-dir', corrupt]),
      run(['start', '--once', '--aws-port', '0', '--snowflake-port', '0', '--data-dir', taken]),
    ]).finally(() => server.close());
    for (const r of [awsBusy, sfBusy, noLogs, bad, running]) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    }
    expect(awsBusy.stderr.trim()).toBe(
      `s3-access-logs: port ${busy} is already in use (--aws-port). Stop what is using it, or pass --aws-port with another port (0 = any free port).`,
    );
    expect(sfBusy.stderr.trim()).toBe(
      `s3-access-logs: port ${busy} is already in use (--snowflake-port). Stop what is using it, or pass --snowflake-port with another port (0 = any free port).`,
    );
    expect(noLogs.stderr.trim()).toBe(
      `s3-access-logs: cannot read --logs ${missing}: no such file or directory. Pass a directory of S3 access log files.`,
    );
    expect(running.stderr.trim()).toBe(
      `s3-access-logs: a stack is already running on ${taken} (pid ${process.pid}, AWS at http://127.0.0.1:1). Stop it with Ctrl-C, or pass another --data-dir.`,
    );
    expect(bad.stderr).toMatch(
      /^s3-access-logs: cannot (open|set up) the warehouse in .*snowflake\.duckdb: .*The data dir may be corrupt/,
    );
  });
});
