import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execute } from '../../shared/snowflake/connection.ts';
import { generateSample } from '../../local/sample/index.ts';
import { startStack } from '../../local/stack.ts';

const dirs: string[] = [];
const tempDir = (name: string) => {
  const d = mkdtempSync(path.join(tmpdir(), `s3al-stack-${name}-`));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('local stack: a warehouse that keeps failing', () => {
  it('retries through the queue, then parks the messages in the DLQ; nothing is half-loaded', async () => {
    const logs = tempDir('logs');
    const objects = generateSample({ seed: 'dlq', days: 1 }).objects.slice(0, 2);
    objects.forEach((o, i) => {
      writeFileSync(path.join(logs, `2026-11-16-0${i}-00-00-000000000000000${i}`), o.body);
    });
    const stack = await startStack({
      awsPort: 0,
      snowflakePort: 0,
      dataDir: tempDir('data'),
      // Statement faults of the insert method; pipe's failure modes are in test/e2e/pipe.test.ts.
      loadMethod: 'insert',
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
      batchingWindowMs: 100,
      logLevel: 'SILENT',
    });
    try {
      // Every typed-row insert fails (not the rejects table): the batch and its per-object retries fail.
      stack.snowflake.faults.failStatement(/INSERT INTO s3_access_logs\b/i, { times: 1000 });
      const summary = await stack.load({ kind: 'dir', dir: logs });
      expect(summary).toMatchObject({ uploaded: 2, objects: 0, rows: 0, rejects: 0, dlq: 2 });
      expect(stack.snowflake.faults.log.filter((f) => f.kind === 'statement').length).toBeGreaterThanOrEqual(4);

      const conn = await stack.connections.get();
      const [rows] = await execute<{ N: number }>(conn, 'SELECT COUNT(*) AS n FROM s3_access_logs');
      const [ledger] = await execute<{ N: number }>(conn, 'SELECT COUNT(*) AS n FROM s3_access_logs_loads');
      expect([Number(rows!.N), Number(ledger!.N)]).toEqual([0, 0]);

      // Once the warehouse is back, the same objects load (here: uploaded again) exactly once.
      stack.snowflake.faults.clear();
      const again = await stack.load({ kind: 'dir', dir: logs });
      expect(again).toMatchObject({
        objects: 2,
        rows: objects[0]!.rows + objects[1]!.rows,
        rejects: objects[0]!.rejects + objects[1]!.rejects,
      });
    } finally {
      await stack.stop();
    }
  });
});
