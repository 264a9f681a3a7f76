/**
 * Every detection against the generated sample on the real local stack (fauxqs → ingest →
 * snowflake-local, snowflake-sdk): it fires on its planted incident with the right principal, IP,
 * bucket and count; nothing else fires (the benign look-alikes of local/sample/story.ts stay
 * silent); each documented parameter changes the result as its header says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../../local/stack.ts';
import { generateSample } from '../../../local/sample/index.ts';
import type { Connection } from '../../../shared/snowflake/connection.ts';
import { readFileSync } from 'node:fs';
import {
  defaultWindow,
  findingsMergeSql,
  loadDetections,
  runDetections,
  scheduleTaskSql,
  timestampText,
  type Window,
} from '../../../shared/snowflake/detections.ts';
import { execute } from '../../../shared/snowflake/connection.ts';
import { applySqlFiles, REPO_ROOT } from '../../../shared/snowflake/sql-files.ts';
import { main } from '../../../cli/main.ts';

const truth = generateSample().truth;
const detections = loadDetections();
let stack: Stack;
let conn: Connection;
let window: Window;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 's3al-detections-'));
  stack = await startStack({ awsPort: 0, snowflakePort: 0, dataDir, logLevel: 'SILENT' });
  await stack.load({ kind: 'sample' });
  conn = await stack.connections.get();
  window = (await defaultWindow(conn))!;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const objectsOf = (bucket: string) => generateSample().objects.filter((o) => o.sourceBucket === bucket).length;

type Finding = {
  PRINCIPAL: string | null;
  SOURCE_IP: string | null;
  BUCKET: string;
  REQUESTS: number;
  BYTES_OUT: number;
  EVIDENCE: string;
};

async function run(name: string, params: Record<string, string> = {}, w: Window = window): Promise<Finding[]> {
  const d = detections.find((x) => x.name === name);
  if (!d) throw new Error(`no detection ${name}`);
  const [result] = await runDetections(conn, [d], w, params);
  return result!.rows as unknown as Finding[];
}

const key = (f: {
  principal?: string | null;
  PRINCIPAL?: string | null;
  ip?: string | null;
  SOURCE_IP?: string | null;
  bucket?: string;
  BUCKET?: string;
}) => `${f.principal ?? f.PRINCIPAL ?? '-'} ${f.ip ?? f.SOURCE_IP ?? '-'} ${f.bucket ?? f.BUCKET}`;

describe('detections on the sample', () => {
  it('every detection file has a planted incident, and every planted incident a detection', () => {
    const names = detections.map((d) => d.name).sort();
    expect([...new Set(truth.planted.map((p) => p.detection))].sort()).toEqual(names);
    expect(names).toHaveLength(13);
  });

  it('the default window is the 24 hours up to the newest loaded request (the incident day)', () => {
    expect(window.until.toISOString()).toMatch(/^2026-11-18T23:/);
    expect(window.until.getTime() - window.since.getTime()).toBe(24 * 3600 * 1000);
  });

  for (const d of loadDetections()) {
    it(`${d.name}: fires on its planted incidents with principal, IP, bucket and count, and nothing else`, async () => {
      // logs-stopped counts the silent bucket's log objects, which the generator decides.
      const planted = truth.planted
        .filter((p) => p.detection === d.name)
        .map((p) => (p.detection === 'logs-stopped' ? { ...p, count: objectsOf(p.bucket) } : p));
      const rows = await run(d.name);
      expect(rows.map(key).sort()).toEqual(planted.map(key).sort());
      for (const p of planted) {
        const row = rows.find((r) => key(r) === key(p))!;
        expect(Number(row.REQUESTS), key(p)).toBe(p.count);
        if (p.bytes !== undefined) expect(Number(row.BYTES_OUT)).toBe(p.bytes);
        expect(row.EVIDENCE).toBeTruthy();
      }
    });
  }

  it('a window without the incident day finds nothing', async () => {
    const early = { since: new Date('2026-11-17T00:00:00Z'), until: new Date('2026-11-18T00:00:00Z') };
    const results = await runDetections(
      conn,
      detections.filter((d) => d.name !== 'logs-stopped'),
      early,
    );
    expect(results.flatMap((r) => r.rows.map((row) => `${r.detection.name}: ${key(row as Finding)}`))).toEqual([]);
  });
});

describe('parameters change the result as documented', () => {
  const { incident } = truth;
  const verifier = 'arn:aws:sts::111122223333:assumed-role/backup-verifier/restore-test';

  it('mass-download: the nightly restore test fires only when the multiplier drops below its usual night; min_bytes and the IP allow-list silence the incident', async () => {
    expect((await run('mass-download', { multiplier: '0.5' })).map((r) => r.PRINCIPAL)).toContain(verifier);
    expect(await run('mass-download', { min_bytes: String(incident.downloadedBytes + 1) })).toEqual([]);
    expect(await run('mass-download', { allowed_ip_regex: '203[.]0[.]113[.]77' })).toEqual([]);
  });

  it('first-seen-ip-sensitive-read: a wider sensitive pattern catches the home worker; no baseline makes every IP new', async () => {
    const reports = await run('first-seen-ip-sensitive-read', { sensitive_key_regex: 'reports/.*' });
    expect(reports.map(key)).toContain('arn:aws:iam::111122223333:user/asmith 192.0.2.61 acme-corp-data');
    expect(reports.map((r) => r.PRINCIPAL)).not.toContain(incident.principal);
    const noBaseline = await run('first-seen-ip-sensitive-read', { baseline_days: '0' });
    expect(noBaseline.map((r) => r.PRINCIPAL)).toContain('arn:aws:iam::111122223333:user/finance-bot');
  });

  it('bulk-deletion: min_deletes above the incident silences it; a low multiplier exposes the daily ETL clean-up', async () => {
    expect(await run('bulk-deletion', { min_deletes: String(incident.deletedKeys.length + 1) })).toEqual([]);
    const low = await run('bulk-deletion', { multiplier: '0.1' });
    expect(low.map((r) => r.PRINCIPAL)).toContain(
      'arn:aws:sts::111122223333:assumed-role/etl-runner/i-0a1b2c3d4e5f60718',
    );
  });

  it('the change detections: the principal allow-list silences them', async () => {
    for (const name of ['lifecycle-changed', 'versioning-changed', 'logging-changed']) {
      expect(await run(name, { allowed_principal_regex: '.*:user/ops-temp' }), name).toEqual([]);
    }
    expect(await run('permission-changed', { allowed_principal_regex: '.*:user/contractor-ci' })).toEqual([]);
  });

  it('anonymous-read-non-public: public_regex allow-lists the prefix; without a baseline the public website fires', async () => {
    expect(await run('anonymous-read-non-public', { public_regex: 'acme-corp-data/curated/.*' })).toEqual([]);
    const noBaseline = await run('anonymous-read-non-public', { baseline_days: '0' });
    expect(noBaseline.map((r) => r.BUCKET)).toContain('acme-website');
  });

  it('denied-burst-enumeration: with one distinct key and any error ratio the retry loop fires; min_errors above 90 silences the scanner', async () => {
    expect(await run('denied-burst-enumeration', { min_distinct_keys: '1' })).toHaveLength(1);
    const loose = await run('denied-burst-enumeration', { min_distinct_keys: '1', min_error_ratio: '0' });
    expect(loose.map(key)).toContain(
      'arn:aws:sts::111122223333:assumed-role/etl-runner/i-0a1b2c3d4e5f60718 10.0.12.7 acme-corp-data',
    );
    expect(await run('denied-burst-enumeration', { min_errors: '91' })).toEqual([]);
  });

  it('plaintext-http: min_requests and the allow-list silence it', async () => {
    expect(await run('plaintext-http', { min_requests: '26' })).toEqual([]);
    expect(await run('plaintext-http', { allowed_principal_regex: '.*legacy-reporting' })).toEqual([]);
  });

  it('sigv2-or-presigned: bucket_regex limits it to the buckets named', async () => {
    expect(await run('sigv2-or-presigned', { bucket_regex: 'acme-website' })).toEqual([]);
    expect(
      (await run('sigv2-or-presigned', { allowed_principal_regex: '.*legacy-reporting' })).map((r) => r.PRINCIPAL),
    ).toEqual(['arn:aws:iam::111122223333:user/asmith']);
  });

  it('cross-account-read: the allow-list silences the unknown account; without a baseline the partner fires', async () => {
    expect(await run('cross-account-read', { allowed_accounts_regex: '777788889999' })).toEqual([]);
    const noBaseline = await run('cross-account-read', { baseline_days: '0' });
    expect(noBaseline.map((r) => r.PRINCIPAL)).toContain('arn:aws:sts::444455556666:assumed-role/partner-reader/sync');
  });

  it('logs-stopped: a small gap factor flags the once-a-day archive bucket; a long minimum silence silences the backups', async () => {
    expect((await run('logs-stopped', { gap_factor: '0.2' })).map((r) => r.BUCKET).sort()).toEqual([
      'acme-archive',
      'acme-backups',
    ]);
    expect(await run('logs-stopped', { min_silence_hours: '24' })).toEqual([]);
  });
});

describe('s3-access-logs detect --local', () => {
  it('prints the findings of the running stack as JSON, one object per finding', async () => {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
    let code;
    try {
      code = await main([
        'detect',
        '--local',
        '--data-dir',
        dataDir,
        '--only',
        'mass-download,bulk-deletion',
        '--json',
      ]);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    const out = JSON.parse(chunks.join('')) as { findings: Array<Record<string, unknown>> };
    expect(out.findings.map((f) => [f.detection, f.principal, f.source_ip])).toEqual([
      ['bulk-deletion', truth.incident.principal, truth.incident.newIp],
      ['mass-download', truth.incident.principal, truth.incident.newIp],
    ]);
    expect(out.findings[1]).toMatchObject({
      severity: 'high',
      technique: expect.stringContaining('T1530'),
      bytes_out: truth.incident.downloadedBytes,
      first_seen: '2026-11-18T02:07:05.000Z',
    });
  });
});

describe('the optional schedule (sql/detections/schedule/)', () => {
  it('the committed task is the one generated from the detection files (npm run detections:schedule)', () => {
    const committed = readFileSync(path.join(REPO_ROOT, 'sql', 'detections', 'schedule', '02-task.sql'), 'utf8');
    expect(committed).toBe(scheduleTaskSql(detections));
  });

  it('its MERGE records every finding once, and running it again over the same window adds nothing', async () => {
    await applySqlFiles(conn, [path.join(REPO_ROOT, 'sql', 'detections', 'schedule', '01-findings.sql')]);
    const lit = (d: Date) => `'${timestampText(d)}'::TIMESTAMP_TZ`;
    const merge = findingsMergeSql(detections, lit(window.since), lit(window.until));
    await execute(conn, merge);
    await execute(conn, merge);
    const rows = await execute<Record<string, unknown>>(
      conn,
      'SELECT detection, principal, source_ip, bucket, requests FROM s3_access_logs_findings',
    );
    expect(rows).toHaveLength(truth.planted.length);
    expect(rows.map((r) => `${String(r.DETECTION)} ${key(r as Finding)}`).sort()).toEqual(
      truth.planted.map((p) => `${p.detection} ${key(p)}`).sort(),
    );
  });
});
