/**
 * The ingest handler (insert method) on vended JSON and Parquet objects against fauxqs and
 * snowflake-local: unknown schema versions are loaded with a warning and counted for the metric,
 * a truncated Parquet object is one reject with the reason, and objects over the memory budget
 * (the streamed path) load the same rows as buffered ones. (Spilling a large Parquet object to a
 * temporary file is tested in test/unit/access-log/formats.test.ts.)
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../../functions/ingest/handler.ts';
import type { BatchSummary } from '../../../functions/ingest/observability.ts';
import { formatLine } from '../../../shared/access-log/index.ts';
import { toNdjson, toParquet, vendedRecord } from '../../../local/sample/vended.ts';
import type { SampleObject } from '../../../local/sample/index.ts';
import { eventFor, ingestConfig, makeHandler, makeRow, putLog, query, startStack, type Stack } from './fixtures.ts';
import { createConnectionProvider } from '../../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../../shared/snowflake/credentials.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const rows = Array.from({ length: 40 }, (_, i) => makeRow(i));
const object: SampleObject = {
  key: 'x',
  sourceBucket: '',
  body: '',
  lines: rows.map((row) => ({ raw: formatLine(row), row })),
  rows: rows.length,
  rejects: 0,
};

class CapturingLogger extends Logger {
  warnings: Array<{ message: string; extra: unknown[] }> = [];
  override warn(message: string | object, ...extra: unknown[]): void {
    this.warnings.push({ message: String(message), extra });
  }
}

describe('ingest of vended JSON and Parquet objects', () => {
  it('loads records of an unknown schema version, warns naming the object and versions, and counts them for the metric', async () => {
    const body = rows
      .slice(0, 5)
      .map((row, i) => JSON.stringify({ ...vendedRecord(row, i + 1), schema_version_id: i < 3 ? 'V_2_0' : 'V_1_0' }))
      .join('\n');
    const o = await putLog(stack, 'logs/vended/future.json', body);
    const config = ingestConfig(stack);
    const logger = new CapturingLogger({ logLevel: 'WARN' });
    const summaries: BatchSummary[] = [];
    const handle = createIngestHandler({
      config,
      s3: stack.aws.s3,
      connections: createConnectionProvider(credentialsProvider(config.snowflake!)),
      logger,
      onBatch: (s) => summaries.push(s),
    });
    expect((await handle(eventFor([o]))).batchItemFailures).toEqual([]);

    expect(summaries[0]).toMatchObject({ objectsLoaded: 1, rows: 5, rejects: 0, unknownSchemaVersionRecords: 3 });
    const warning = logger.warnings.find((w) => w.message.includes('unknown schema_version_id'));
    expect(warning?.extra[0]).toMatchObject({ key: o.key, format: 'ndjson', versions: { V_2_0: 3 } });
    const stored = await query<{ logline: unknown; extrafields: string | null; requestdatetime: unknown }>(
      stack,
      'SELECT logline, extrafields, requestdatetime FROM s3_access_logs WHERE logkey = ? ORDER BY logline',
      [o.key],
    );
    expect(stored.map((r) => r.extrafields)).toEqual([...Array(3).fill('{"schema_version_id":"V_2_0"}'), null, null]);
  });

  it('a truncated Parquet object is loaded as one reject naming the problem (acknowledged, not retried)', async () => {
    const file = toParquet(object);
    const o = await putLog(stack, 'logs/vended/truncated.parquet', file.subarray(0, file.length - 100));
    const { handle, summaries } = makeHandler(stack);
    expect((await handle(eventFor([o]))).batchItemFailures).toEqual([]);
    expect(summaries[0]).toMatchObject({ objectsLoaded: 1, rows: 0, rejects: 1 });
    const rejects = await query<{ logline: unknown; reason: string }>(
      stack,
      'SELECT logline, reason FROM s3_access_logs_rejects WHERE logkey = ?',
      [o.key],
    );
    expect(rejects).toHaveLength(1);
    expect(rejects[0]!.reason).toMatch(/^bad_parquet: /);
  });

  it('streams JSON and Parquet objects over the memory budget, with the same rows as buffered ones', async () => {
    const keys = ['json.gz', 'parquet'].flatMap((ext) => [
      `logs/vended/buffered.${ext}`,
      `logs/vended/streamed.${ext}`,
    ]);
    const bodies = [toNdjson(object), toNdjson(object), toParquet(object, 8), toParquet(object, 8)];
    const puts = await Promise.all(keys.map((k, i) => putLog(stack, k, bodies[i]!)));
    const buffered = makeHandler(stack);
    const streamed = makeHandler(stack, { memoryBudgetBytes: 64 });
    expect((await buffered.handle(eventFor([puts[0]!, puts[2]!]))).batchItemFailures).toEqual([]);
    expect((await streamed.handle(eventFor([puts[1]!, puts[3]!]))).batchItemFailures).toEqual([]);
    expect(buffered.summaries[0]).toMatchObject({ objectsLoaded: 2, rows: 80, transactions: 1 });
    expect(streamed.summaries[0]).toMatchObject({ objectsLoaded: 2, rows: 80, transactions: 2 });
    const load = (key: string) =>
      query<Record<string, unknown>>(
        stack,
        'SELECT * EXCLUDE (logkey, loadedat) FROM s3_access_logs WHERE logkey = ? ORDER BY logline',
        [key],
      );
    for (const ext of ['json.gz', 'parquet']) {
      const a = await load(`logs/vended/buffered.${ext}`);
      expect(a).toHaveLength(rows.length);
      expect(await load(`logs/vended/streamed.${ext}`)).toEqual(a);
    }
  });
});
