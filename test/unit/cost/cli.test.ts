// `s3-access-logs cost` through the real CLI entry point.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../../../bin/s3-access-logs.mjs', import.meta.url).pathname;

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'cost', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('s3-access-logs cost', () => {
  it('prints the table for pipe, insert and the quickstart with formulas, and the JSON with sources', async () => {
    const r = await cli('--gb-per-day', '10');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pipe\s+0\.0412\s+\$0\.12\s+\$0\.24\s+\$0\.36$/m);
    expect(r.stdout).toMatch(/^insert\s+23\.98\s+\$71\.94\s+/m);
    expect(r.stdout).toMatch(/^quickstart\s+9\.64\s+\$28\.91\s+/m);
    expect(r.stdout).toContain('10 GB × 1.1126 (uncompressed CSV per log byte) × 0.0037 credits/GB');
    expect(r.stdout).toContain('S3 PUT (staged files): $0.15 = 10000 objects × 3 files × $0.005/1000');

    const j = await cli('--gb-per-day', '1', '--method', 'insert', '--credit-price', '2', '--json');
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout);
    expect(Object.keys(report.methods)).toEqual(['insert', 'quickstart']);
    expect(report.methods.insert.snowflakeUsd).toBeCloseTo(report.methods.insert.credits * 2, 9);
    expect(report.prices.snowpipeCreditsPerGb).toMatchObject({ value: 0.0037, asOf: '2026-11-30' });
    expect(report.prices.snowpipeCreditsPerGb.source).toContain('data-load-snowpipe-billing');
  });

  it('exits 2 with one sentence on a bad number or a missing --gb-per-day', async () => {
    const bad = await cli('--gb-per-day', 'ten');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--gb-per-day must be a number of at least 0, got "ten".');
    const missing = await cli();
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--gb-per-day <n>' not specified/);
  });
});
