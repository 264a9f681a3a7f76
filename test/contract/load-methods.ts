/**
 * The load methods against the target, end to end from S3 (fauxqs) through the real ingest
 * handler: `insert` commits rows, rejects and the ledger row; `pipe` stages files that the pipes'
 * COPY statements (sql/pipe/03-pipes.sql, file format sql/pipe/01-file-format.sql, ON_ERROR =
 * SKIP_FILE) load into the same rows. A redelivery loads nothing twice either way.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler, defaultConnections } from '../../functions/ingest/handler.ts';
import type { BatchSummary } from '../../functions/ingest/observability.ts';
import { COLUMNS, parseLine, type ParsedLine } from '../../shared/access-log/index.ts';
import type { IngestConfig } from '../../shared/config.ts';
import type { ConnectionProvider } from '../../shared/snowflake/connection.ts';
import { TABLES } from '../../shared/snowflake/loader.ts';
import { RecordWriter, stagedNames } from '../../shared/snowflake/pipe/staged-files.ts';
import { exec, type Connection } from '../../local/harness/snowflake.ts';
import { eventFor, linesOf, makeRow } from '../integration/ingest/fixtures.ts';
import { count, LOG_BUCKET } from './fixtures.ts';
import { STAGING_BUCKET, STAGING_PREFIX, type ContractTarget } from './target.ts';

/** 20 log records and one line that is not one: 20 rows and 1 reject, whichever method. */
const LOG_TEXT = `${[...linesOf(Array.from({ length: 20 }, (_, i) => makeRow(i))), 'this is not an access log line'].join('\n')}\n`;

export function loadMethodContract(t: () => ContractTarget): void {
  describe('load methods', () => {
    let observer: Connection;
    const providers: ConnectionProvider[] = [];
    beforeAll(async () => {
      await t().aws.s3.send(new CreateBucketCommand({ Bucket: LOG_BUCKET }));
      observer = await t().connect();
    });
    afterAll(async () => {
      await Promise.all(providers.map((p) => p.close()));
    });

    function handler(overrides: Partial<IngestConfig>) {
      const config: IngestConfig = {
        logBuckets: [LOG_BUCKET],
        logPrefixes: ['logs/'],
        loadMethod: 'insert',
        insertChunkRows: 8,
        memoryBudgetBytes: 8 << 20,
        logLevel: 'SILENT',
        loadMode: 'parsed',
        ...overrides,
      };
      // The ingest Lambda's own connection provider, SESSION_SETUP included.
      const connections = defaultConnections(config);
      if (connections) providers.push(connections);
      const summaries: BatchSummary[] = [];
      const handle = createIngestHandler({
        config,
        s3: t().aws.s3,
        ...(connections ? { connections } : {}),
        logger: new Logger({ logLevel: 'SILENT' }),
        onBatch: (s) => summaries.push(s),
      });
      return { handle, summaries };
    }

    async function putLog(key: string): Promise<{ bucket: string; key: string; size: number; etag: string }> {
      const r = await t().aws.s3.send(new PutObjectCommand({ Bucket: LOG_BUCKET, Key: key, Body: LOG_TEXT }));
      return { bucket: LOG_BUCKET, key, size: Buffer.byteLength(LOG_TEXT), etag: r.ETag!.replace(/"/g, '') };
    }

    /** An object's rows as the target returns them, without the columns that name the object or the load. */
    const rowsOf = (key: string) =>
      exec(observer, `SELECT ${COLUMNS.join(', ')}, logline FROM ${TABLES.rows} WHERE logkey = ? ORDER BY logline`, [
        key,
      ]);
    const rejectsOf = (key: string) =>
      exec(observer, `SELECT logline, reason, rawline FROM ${TABLES.rejects} WHERE logkey = ? ORDER BY logline`, [key]);
    const ledgerOf = (key: string) =>
      exec(
        observer,
        `SELECT etag, bytes, linecount, rowcount, rejectcount, mode, loadcount, claimid FROM ${TABLES.ledger} WHERE logkey = ?`,
        [key],
      );

    const insertKey = 'logs/contract/insert.log';
    const pipeKey = 'logs/contract/pipe.log';

    it('insert: the ingest handler commits the rows, the reject and the ledger row; a redelivery loads nothing twice', async () => {
      const object = await putLog(insertKey);
      const { handle, summaries } = handler({ snowflake: { kind: 'env', credentials: t().credentials } });
      expect(await handle(eventFor([object]))).toEqual({ batchItemFailures: [] });
      expect(summaries[0]).toMatchObject({ objectsLoaded: 1, rows: 20, rejects: 1 });
      const rows = await rowsOf(insertKey);
      expect(rows).toHaveLength(20);
      expect(Number(rows[0]!.OBJECTSIZE)).toBe(5_000_000_000); // above 2^32, exact
      expect(rows[0]!.ACLREQUIRED).toBe(true);
      expect(await rejectsOf(insertKey)).toEqual([
        { LOGLINE: 21, REASON: expect.any(String), RAWLINE: 'this is not an access log line' },
      ]);
      const [ledger] = await ledgerOf(insertKey);
      expect(ledger).toMatchObject({ ETAG: object.etag, LINECOUNT: 21, ROWCOUNT: 20, REJECTCOUNT: 1, MODE: 'parsed' });

      expect(await handle(eventFor([object]))).toEqual({ batchItemFailures: [] });
      expect(summaries[1]).toMatchObject({ objectsLoaded: 0, skipped: { duplicate: 1 } });
      expect(await count(observer, TABLES.rows, insertKey)).toBe(20);
      expect(await count(observer, TABLES.ledger, insertKey)).toBe(1);
    });

    it("pipe: the staged files, loaded by the pipes' COPY, give insert's rows, reject and ledger row; loading them again adds nothing", async () => {
      const object = await putLog(pipeKey);
      const { handle, summaries } = handler({
        loadMethod: 'pipe',
        staging: { bucket: STAGING_BUCKET, prefix: STAGING_PREFIX },
      });
      expect(await handle(eventFor([object]))).toEqual({ batchItemFailures: [] });
      expect(summaries[0]).toMatchObject({ objectsLoaded: 1, filesStaged: 3 });
      const names = stagedNames(STAGING_PREFIX, LOG_BUCKET, pipeKey, 'parsed');
      const keys = [...names.data.map((d) => d.key), names.manifest];
      await t().loadStaged(keys);

      const insertRows = await rowsOf(insertKey);
      expect(insertRows).toHaveLength(20); // the insert test ran first
      expect(await rowsOf(pipeKey)).toEqual(insertRows);
      expect(await rejectsOf(pipeKey)).toEqual(await rejectsOf(insertKey));
      const [ledger] = await ledgerOf(pipeKey);
      const [inserted] = await ledgerOf(insertKey);
      // Same object bytes, so the same ETag and counts; only the claim id says which method loaded it.
      expect({ ...ledger, CLAIMID: undefined }).toEqual({ ...inserted, CLAIMID: undefined });
      expect(ledger).toMatchObject({ ETAG: object.etag, LOADCOUNT: 1 });
      expect(String(ledger!.CLAIMID)).toMatch(/^pipe:.*manifests\//);

      // A redelivery stages the same names; the load history (Snowpipe's, or COPY's) skips them.
      await t().loadStaged(keys);
      expect(await count(observer, TABLES.rows, pipeKey)).toBe(20);
      expect(await count(observer, TABLES.ledger, pipeKey)).toBe(1);
    });

    it('pipe: ON_ERROR = SKIP_FILE loads nothing of a file with one bad record, and all of a good one', async () => {
      const stage = async (key: string, n: number, badAt?: number) => {
        const writer = new RecordWriter(LOG_BUCKET, key);
        const text = linesOf(Array.from({ length: n }, (_, i) => makeRow(i)))
          .map((raw, i) => {
            const line = { line: i + 1, raw, result: parseLine(raw) } as ParsedLine & { result: { ok: true } };
            // A string where the table has NUMBER: the file's COPY fails on this record.
            if (i === badAt) (line.result.row as unknown as Record<string, unknown>).httpstatus = 'not a number';
            return writer.row(line);
          })
          .join('');
        const staged = `${STAGING_PREFIX}rows/contract-skip-file-${key.split('/').at(-1)}.csv.gz`;
        await t().aws.s3.send(new PutObjectCommand({ Bucket: STAGING_BUCKET, Key: staged, Body: gzipSync(text) }));
        return staged;
      };
      const keys = [await stage('logs/skip/bad', 4, 2), await stage('logs/skip/good', 3)];
      await t().loadStaged(keys);
      expect(await count(observer, TABLES.rows, 'logs/skip/bad')).toBe(0);
      expect(await count(observer, TABLES.rows, 'logs/skip/good')).toBe(3);
    });
  });
}
