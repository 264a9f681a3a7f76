import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../cli/errors.ts';
import { detect, isoTime } from '../../../cli/detect.ts';
import type { Connection } from '../../../shared/snowflake/connection.ts';
import {
  bindsFor,
  DetectionError,
  inlineBinds,
  loadDetections,
  parseDetection,
  timestampText,
} from '../../../shared/snowflake/detections.ts';

const detections = loadDetections();

describe('detection files (sql/detections/)', () => {
  it.each(detections.map((d) => [d.name, d] as const))(
    '%s: a complete header, and placeholders :since, :until and exactly its declared parameters',
    (_name, d) => {
      const text = d.sql;
      const header = (key: string) => new RegExp(`^--\\s*${key}:\\s*\\S`, 'm');
      const file = readFileSync(d.file, 'utf8');
      for (const key of ['name', 'title', 'severity', 'technique', 'finds', 'false positives', 'triage'])
        expect(file, key).toMatch(header(key));
      expect(d.technique).toMatch(/T1\d{3}|Exposure/);
      for (const p of d.params) expect(p.description, p.name).not.toBe('');
      // Every placeholder is declared (checked on load); here, every declared parameter is used.
      const { binds } = bindsFor(d, { since: new Date(0), until: new Date(1) }, {});
      const used = new Set([...text.matchAll(/(?<![:\w]):([a-z_][a-z0-9_]*)/g)].map((m) => m[1]));
      expect([...used].sort()).toEqual(['since', 'until', ...d.params.map((p) => p.name)].sort());
      expect(binds.length).toBeGreaterThanOrEqual(d.params.length + 2);
      // Every finding has the same columns, in the same order (the schedule's UNION relies on it).
      expect(text).toMatch(
        /AS principal,[\s\S]*AS source_ip,[\s\S]*AS bucket,[\s\S]*first_seen,[\s\S]*last_seen,[\s\S]*requests,[\s\S]*bytes_out,[\s\S]*AS evidence\s+FROM/,
      );
    },
  );

  it('parameter names are unique within a file and mean the same across files', () => {
    const seen = new Map<string, string>();
    for (const d of detections) {
      expect(new Set(d.params.map((p) => p.name)).size, d.name).toBe(d.params.length);
      for (const p of d.params) {
        if (p.name.endsWith('_regex') || p.name === 'baseline_days') {
          const kind = p.name.endsWith('_regex') ? 'regex' : 'days';
          expect(seen.get(p.name) ?? kind).toBe(kind);
          seen.set(p.name, kind);
        }
      }
    }
  });
});

describe('parseDetection', () => {
  const good =
    "-- name: x\n-- severity: low\n-- technique: T1530\n-- param: a_regex = ''  nothing\n-- param: n = '5'  five\n" +
    'SELECT :since, :until, :a_regex, :n';

  it('reads name, severity, technique and the parameters in order, with quoted defaults', () => {
    const d = parseDetection('/tmp/x.sql', good);
    expect(d).toMatchObject({ name: 'x', severity: 'low', technique: 'T1530' });
    expect(d.params).toEqual([
      { name: 'a_regex', default: '', description: 'nothing' },
      { name: 'n', default: '5', description: 'five' },
    ]);
  });

  it('refuses a name that is not the file name, a bad severity, two statements', () => {
    expect(() => parseDetection('/tmp/y.sql', good)).toThrow(DetectionError);
    expect(() => parseDetection('/tmp/x.sql', good.replace('low', 'urgent'))).toThrow(/severity/);
    expect(() => parseDetection('/tmp/x.sql', `${good}; SELECT 1`)).toThrow(/exactly one statement/);
  });

  it("refuses an undeclared placeholder, the old header form, and declaring the runner's window", () => {
    const head = '-- name: x\n-- severity: low\n';
    expect(() => parseDetection('/tmp/x.sql', `${head}SELECT :since, :until, :n`)).toThrow(
      new DetectionError('x.sql uses :n but declares no "-- param: n = ..." line.'),
    );
    expect(() => parseDetection('/tmp/x.sql', `${head}-- param: n 5  five\nSELECT :n`)).toThrow(
      /cannot read "-- param: n 5 {2}five"; write "-- param: name = 'default' what it means"/,
    );
    expect(() => parseDetection('/tmp/x.sql', `${head}-- param: since = null  s\nSELECT :since`)).toThrow(
      /declares "since", which the caller provides/,
    );
  });

  it('binds by name: the window, then each parameter, the override, else the default', () => {
    const d = parseDetection('/tmp/x.sql', good);
    const w = { since: new Date('2026-11-17T00:00:00Z'), until: new Date('2026-11-18T00:00:00Z') };
    // min_bytes belongs to another selected detection: not this one's, so not bound here.
    expect(bindsFor(d, w, { n: '7', min_bytes: '1' })).toEqual({
      sqlText: 'SELECT ?, ?, ?, ?',
      binds: ['2026-11-17 00:00:00.000 +00:00', '2026-11-18 00:00:00.000 +00:00', '', '7'],
    });
    expect(timestampText(w.since)).toBe('2026-11-17 00:00:00.000 +00:00');
  });

  it('inlines the defaults for the schedule as escaped literals, leaving casts, strings and comments alone', () => {
    const d = parseDetection(
      '/tmp/x.sql',
      "-- name: x\n-- severity: low\n-- param: r = 'it''s \\d'  q\nSELECT :since::TIMESTAMP_TZ, ':until', :r -- :until here\n, :until",
    );
    expect(inlineBinds(d, 'A', 'B')).toBe("SELECT (A)::TIMESTAMP_TZ, ':until', ('it''s \\\\d') -- :until here\n, (B)");
  });
});

describe('detect: arguments are checked before anything runs', () => {
  // Any statement would fail: these must be refused before one is sent.
  const conn = new Proxy(
    {},
    {
      get: () => {
        throw new Error('no statement expected');
      },
    },
  ) as unknown as Connection;
  const refused = async (opts: Parameters<typeof detect>[1], message: RegExp) => {
    const err = await detect(conn, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(message);
  };

  it('names the unknown detection and lists the known ones', () =>
    refused({ only: ['mass-download,nope'] }, /no detection named nope; the detections are: .*mass-download/));
  it('wants NAME=VALUE', () => refused({ param: ['min_bytes'] }, /--param takes NAME=VALUE/));
  it('refuses a parameter no selected detection has', () =>
    refused({ only: ['logs-stopped'], param: ['min_bytes=5'] }, /--param min_bytes: no selected detection/));
  it('refuses a time that is not ISO', () => refused({ since: 'yesterday' }, /--since must be an ISO date/));
  it('refuses since after until', () =>
    refused({ since: '2026-11-18', until: '2026-11-17' }, /--since must be before --until/));
});

describe('detect --json times', () => {
  it('turns the timestamps Snowflake returns into ISO 8601 UTC', () => {
    expect(isoTime({ toJSON: () => '2026-11-18 10:30:00.000 +0000' })).toBe('2026-11-18T10:30:00.000Z');
    expect(isoTime('2026-11-18 12:30:00.5 +02:00')).toBe('2026-11-18T10:30:00.500Z');
    expect(isoTime(new Date('2026-11-18T10:30:00Z'))).toBe('2026-11-18T10:30:00.000Z');
    expect(isoTime(null)).toBeNull();
    expect(isoTime('not a time')).toBe('not a time');
  });
});

describe('s3-access-logs detect (process)', () => {
  const bin = new URL('../../../bin/s3-access-logs.mjs', import.meta.url).pathname;
  it('reports a usage error with exit 2 before looking for a stack or credentials', async () => {
    const err = (await promisify(execFile)(process.execPath, [
      bin,
      'detect',
      '--local',
      '--data-dir',
      '/nonexistent',
      '--only',
      'nope',
    ]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/^s3-access-logs: no detection named nope; the detections are: /);
  });

  it('prints the schedule without connecting', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      bin,
      'detect',
      '--print-schedule',
      '--warehouse',
      'MY_WH',
    ]);
    expect(stdout).toContain('CREATE OR REPLACE TASK s3_access_logs_detect\n  WAREHOUSE = MY_WH');
    expect(stdout).toContain('MERGE INTO s3_access_logs_findings');
  });
});
