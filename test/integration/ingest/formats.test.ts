/**
 * A log bucket holding text, vended JSON and vended Parquet objects, loaded by the local stack
 * (local/stack.ts, the code behind `npm start -- --logs DIR`: fauxqs S3+SQS, the notification
 * bridge, the real ingest handler, snowflake-local through snowflake-sdk), with each load method
 * (`insert`: transactions; `pipe`: staged gzip CSV files loaded by snowflake-local's Snowpipe):
 * every object loads completely, exactly once, and TIMESTAMP_TZ keeps the records' milliseconds.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute } from '../../../shared/snowflake/connection.ts';
import { startStack, type Stack } from '../../../local/stack.ts';
import { generateSample } from '../../../local/sample/index.ts';
import { SAMPLE_FORMATS } from '../../../local/sample/formats.ts';
import { sampleObjects } from '../../../local/sample/vended.ts';

let dir: string;
const sample = generateSample({ seed: 99, days: 1, scale: 0.3 });
const value = (row: Record<string, unknown>, name: string) => row[name.toUpperCase()] ?? row[name];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'formats-stack-'));
  const logs = path.join(dir, 'logs');
  for (const format of SAMPLE_FORMATS) {
    for (const o of sampleObjects(sample, format, '')) {
      const file = path.join(logs, format, o.key);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, o.body);
    }
  }
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(['insert', 'pipe'] as const)(
  'a mixed bucket (text, JSON, Parquet) on the local stack, load method %s',
  (loadMethod) => {
    let stack: Stack;
    const sql = async (text: string, binds: Array<string | number> = []) =>
      execute(await stack.connections.get(), text, binds);
    beforeAll(async () => {
      stack = await startStack({
        awsPort: 0,
        snowflakePort: 0,
        dataDir: path.join(dir, `data-${loadMethod}`),
        logLevel: 'SILENT',
        loadMethod,
      });
    }, 120_000);
    afterAll(async () => {
      await stack?.stop();
    });

    it('loads every object completely, then nothing twice', async () => {
      const objects = sample.objects.length * 3;
      const first = await stack.load({ kind: 'dir', dir: path.join(dir, 'logs') });
      expect(first).toMatchObject({
        uploaded: objects,
        objects,
        rows: sample.truth.rows * 3,
        rejects: sample.truth.rejects * 3,
        dlq: 0,
      });

      const perFormat = await sql(
        `SELECT SPLIT_PART(logkey, '/', 2) AS format, COUNT(*) AS n, COUNT(DISTINCT logkey) AS objects FROM s3_access_logs GROUP BY 1 ORDER BY 1`,
      );
      expect(perFormat.map((r) => [value(r, 'format'), Number(value(r, 'n')), Number(value(r, 'objects'))])).toEqual(
        ['json', 'parquet', 'text'].map((f) => [f, sample.truth.rows, sample.objects.filter((o) => o.rows > 0).length]),
      );
      const loads = await sql(`SELECT COUNT(*) AS n, SUM(rowcount) AS r FROM s3_access_logs_loads`);
      expect([Number(value(loads[0]!, 'n')), Number(value(loads[0]!, 'r'))]).toEqual([objects, sample.truth.rows * 3]);

      const again = await stack.load({ kind: 'dir', dir: path.join(dir, 'logs') });
      expect(again).toMatchObject({ objects: 0, rows: 0, skipped: objects, dlq: 0 });
      const total = await sql(`SELECT COUNT(*) AS n FROM s3_access_logs`);
      expect(Number(value(total[0]!, 'n'))).toBe(sample.truth.rows * 3);
    }, 240_000);

    it('keeps the milliseconds of request_time in TIMESTAMP_TZ, and the same instant to the second as the text row', async () => {
      const rows = await sql(
        `SELECT SPLIT_PART(logkey, '/', 2) AS format, TO_VARCHAR(requestdatetime, 'YYYY-MM-DD"T"HH24:MI:SS.FF3') AS t
         FROM s3_access_logs WHERE requestid = (SELECT MIN(requestid) FROM s3_access_logs) ORDER BY 1`,
      );
      const byFormat = Object.fromEntries(rows.map((r) => [value(r, 'format'), String(value(r, 't'))]));
      expect(byFormat.text).toMatch(/\.000$/);
      expect(byFormat.json).toMatch(/\.\d{3}$/);
      expect(byFormat.json).not.toMatch(/\.000$/);
      expect(byFormat.parquet).toBe(byFormat.json);
      expect(byFormat.json!.slice(0, 19)).toBe(byFormat.text!.slice(0, 19));
    }, 60_000);
  },
);
