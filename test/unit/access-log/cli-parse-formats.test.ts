/** `s3-access-logs parse` on a directory mixing text, vended JSON and Parquet: the same rows whatever the format. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSample } from '../../../local/sample/index.ts';
import { toNdjson, toParquet, vendedRecord } from '../../../local/sample/vended.ts';

const bin = new URL('../../../bin/s3-access-logs.mjs', import.meta.url).pathname;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let dir: string;
const object =
  generateSample({ seed: 11, days: 1, scale: 0.2 }).objects.find((o) => o.rejects > 0) ??
  generateSample({ seed: 11, days: 1, scale: 0.2 }).objects[0]!;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'parse-formats-'));
  writeFileSync(path.join(dir, 'a-text.log'), object.body);
  writeFileSync(path.join(dir, 'b-vended.json.gz'), toNdjson(object));
  writeFileSync(path.join(dir, 'c-vended.parquet'), toParquet(object));
  const unknown = { ...vendedRecord(object.lines.find((l) => l.row)!.row!, 1), schema_version_id: 'V_9_9' };
  writeFileSync(path.join(dir, 'd-future.json'), `${JSON.stringify(unknown)}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parse on text, JSON and Parquet files', () => {
  it('prints the same rows for each format (request time to the millisecond for JSON/Parquet) and warns about unknown schema versions', async () => {
    const r = await cli(['parse', dir, '--rejects', path.join(dir, 'rejects.ndjson.out')]);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const byFile = (suffix: string) => rows.filter((row) => String(row.logkey).endsWith(suffix));
    const strip = (row: Record<string, unknown>) => ({
      ...row,
      logkey: null,
      requestdatetime: String(row.requestdatetime).replace(/\.\d{3}Z$/, 'Z'),
    });
    const text = byFile('a-text.log');
    expect(text).toHaveLength(object.rows);
    expect(byFile('b-vended.json.gz').map(strip)).toEqual(text.map(strip));
    expect(byFile('c-vended.parquet').map(strip)).toEqual(text.map(strip));
    expect(byFile('c-vended.parquet')[0]!.requestdatetime).toMatch(/\.\d{3}Z$/);
    expect(byFile('d-future.json')).toHaveLength(1);
    expect(JSON.parse(String(byFile('d-future.json')[0]!.extrafields))).toEqual({ schema_version_id: 'V_9_9' });
    expect(r.stderr).toContain('warning: records of unknown schema_version_id V_9_9 (1)');
    expect(r.stderr).toContain(`${object.rejects * 3} rejects`);
  });
});
