/**
 * The ingest handler end to end on the embedded stand-ins: fauxqs (S3, real @aws-sdk client) and
 * snowflake-local (real snowflake-sdk). Each test uses its own keys, so they share one stack.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { createIngestHandler } from '../../../functions/ingest/handler.ts';
import { createConnectionProvider } from '../../../shared/snowflake/connection.ts';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLine, COLUMNS } from '../../../shared/access-log/index.ts';
import { notificationBody } from '../../../local/harness/events.ts';
import {
  count,
  eventFor,
  ingestConfig,
  LOG_BUCKET,
  linesOf,
  makeHandler,
  makeRow,
  OTHER_BUCKET,
  putLog,
  query,
  sqsEvent,
  startStack,
  type Stack,
} from './fixtures.ts';
import { injectCommitFailures } from './faults.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.stop());

const failedIds = (r: { batchItemFailures: Array<{ itemIdentifier: string }> }) =>
  r.batchItemFailures.map((f) => f.itemIdentifier).sort();

/** Values as the typed table should hold them, for comparing with what the SDK returns. */
function normalize(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  if (typeof v === 'object' && v !== null && 'toJSON' in v)
    return normalize(new Date(String((v as { toJSON(): string }).toJSON())));
  return v;
}

describe('ingest handler', () => {
  it('loads a batch of objects in one transaction, with exact counts and values', async () => {
    const { handle, summaries } = makeHandler(stack, { insertChunkRows: 4 });
    const objects = [];
    const sources = new Map<string, ReturnType<typeof makeRow>[]>();
    for (let o = 0; o < 3; o++) {
      const rows = Array.from({ length: 5 + o * 3 }, (_, i) => makeRow(o * 100 + i));
      const key = `logs/batch/2024-05-01-10-00-0${o}-ABCDEF`;
      sources.set(key, rows);
      objects.push(await putLog(stack, key, `${linesOf(rows).join('\n')}\n`));
    }
    const event = eventFor(objects);
    const res = await handle(event);
    expect(res.batchItemFailures).toEqual([]);

    for (const [key, rows] of sources) {
      expect(await count(stack, 's3_access_logs', key)).toBe(rows.length);
      const ledger = await query(stack, 'SELECT * FROM s3_access_logs_loads WHERE logkey = ?', [key]);
      expect(ledger).toHaveLength(1);
      expect(ledger[0]).toMatchObject({ logbucket: LOG_BUCKET, mode: 'parsed' });
      expect(Number(ledger[0]!.linecount)).toBe(rows.length);
      expect(Number(ledger[0]!.rowcount)).toBe(rows.length);
      expect(Number(ledger[0]!.rejectcount)).toBe(0);
      expect(Number(ledger[0]!.loadcount)).toBe(1);
    }

    // Every field of every row of one object, as stored.
    const [key, rows] = [...sources][2]!;
    const stored = await query(stack, `SELECT * FROM s3_access_logs WHERE logkey = ? ORDER BY logline`, [key]);
    expect(stored).toHaveLength(rows.length);
    stored.forEach((s, i) => {
      const want = rows[i]!;
      for (const c of COLUMNS) {
        const got = normalize(s[c]);
        const exp = want[c];
        if (typeof exp === 'number') expect(Number(got), c).toBe(exp);
        else expect(got, c).toEqual(exp);
      }
      expect(s.logbucket).toBe(LOG_BUCKET);
      expect(s.logkey).toBe(key);
      expect(Number(s.logline)).toBe(i + 1);
    });

    // Round-trips: connection check, ledger look-up, BEGIN, MERGE, SELECT claim, COMMIT + one per chunk.
    const s = summaries[0]!;
    const total = [...sources.values()].reduce((n, r) => n + r.length, 0);
    expect(total).toBe(24);
    expect(s).toMatchObject({ objectsLoaded: 3, rows: 24, rejects: 0, transactions: 1, failedMessages: 0 });
    expect(s.roundTrips).toBe(6 + Math.ceil(total / 4));
    expect(s.deliveryLagSeconds).toBeGreaterThan(0);
  });

  it('a redelivered batch adds nothing', async () => {
    const { handle, summaries } = makeHandler(stack);
    const objects = [
      await putLog(stack, 'logs/redeliver/a', linesOf([makeRow(1), makeRow(2)]).join('\n')),
      await putLog(stack, 'logs/redeliver/b', linesOf([makeRow(3)]).join('\n')),
    ];
    expect((await handle(eventFor(objects))).batchItemFailures).toEqual([]);
    expect((await handle(eventFor(objects))).batchItemFailures).toEqual([]);
    expect(await count(stack, 's3_access_logs', 'logs/redeliver/a')).toBe(2);
    expect(await count(stack, 's3_access_logs', 'logs/redeliver/b')).toBe(1);
    expect(await count(stack, 's3_access_logs_loads', 'logs/redeliver/a')).toBe(1);
    expect(summaries[1]).toMatchObject({ objectsLoaded: 0, rows: 0, transactions: 0 });
    expect(summaries[1]!.skipped.duplicate).toBe(2);
  });

  it('the same object twice in one batch is loaded once and both messages are acknowledged', async () => {
    const { handle, summaries } = makeHandler(stack);
    const o = await putLog(stack, 'logs/twice/a', linesOf([makeRow(1), makeRow(2)]).join('\n'));
    const res = await handle(eventFor([o, o]));
    expect(res.batchItemFailures).toEqual([]);
    expect(await count(stack, 's3_access_logs', 'logs/twice/a')).toBe(2);
    expect(summaries[0]).toMatchObject({ objectsLoaded: 1 });
  });

  it('concurrent duplicate deliveries add nothing', async () => {
    const keys = Array.from({ length: 4 }, (_, i) => `logs/concurrent/${i}`);
    const objects = [];
    for (const [i, key] of keys.entries())
      objects.push(await putLog(stack, key, linesOf(Array.from({ length: 3 + i }, (_, j) => makeRow(j))).join('\n')));
    // Two Lambda containers: separate connections, separate sessions, same objects at the same time.
    const a = makeHandler(stack);
    const b = makeHandler(stack);
    const c = makeHandler(stack);
    const results = await Promise.all([
      a.handle(eventFor(objects)),
      b.handle(eventFor(objects)),
      c.handle(eventFor([...objects].reverse())),
    ]);
    // A delivery may fail (e.g. a lock wait or write conflict); SQS would redeliver it. Do that.
    for (const [i, r] of results.entries()) {
      if (r.batchItemFailures.length > 0) {
        const again = await [a, b, c][i]!.handle(eventFor(objects));
        expect(again.batchItemFailures).toEqual([]);
      }
    }
    for (const [i, key] of keys.entries()) {
      expect(await count(stack, 's3_access_logs', key)).toBe(3 + i);
      expect(await count(stack, 's3_access_logs_loads', key)).toBe(1);
    }
    const all = [a, b, c].flatMap((h) => h.summaries);
    const loaded = all.reduce((n, s) => n + s.objectsLoaded, 0);
    expect(loaded).toBe(keys.length);
    // Every other delivery of each object was acknowledged as a duplicate (by the look-up or the claim).
    expect(all.reduce((n, s) => n + s.skipped.duplicate, 0)).toBe(keys.length * 2);
  });

  it('a failed COMMIT leaves nothing visible, fails the messages, and the retry loads each object once', async () => {
    const { handle, summaries } = makeHandler(stack);
    const objects = [
      await putLog(stack, 'logs/commitfail/a', linesOf([makeRow(1), makeRow(2), makeRow(3)]).join('\n')),
      await putLog(stack, 'logs/commitfail/b', linesOf([makeRow(4)]).join('\n')),
    ];
    const event = eventFor(objects);
    // The batch transaction and both one-object retries: three COMMITs fail.
    const fault = failCommits(stack, 3);
    const res = await handle(event);
    fault.clear();
    expect(failedIds(res)).toEqual(event.Records.map((r) => r.messageId).sort());
    for (const o of objects) {
      expect(await count(stack, 's3_access_logs', o.key)).toBe(0);
      expect(await count(stack, 's3_access_logs_loads', o.key)).toBe(0);
    }
    expect(summaries[0]).toMatchObject({ objectsLoaded: 0, objectsFailed: 2, failedMessages: 2 });

    const retry = await handle(event);
    expect(retry.batchItemFailures).toEqual([]);
    expect(await count(stack, 's3_access_logs', 'logs/commitfail/a')).toBe(3);
    expect(await count(stack, 's3_access_logs', 'logs/commitfail/b')).toBe(1);
    expect(await count(stack, 's3_access_logs_loads', 'logs/commitfail/a')).toBe(1);
    // And once more: still exactly once.
    await handle(event);
    expect(await count(stack, 's3_access_logs', 'logs/commitfail/a')).toBe(3);
  });

  it('a failed ROLLBACK: the session is dropped (ending its transaction), and the batch goes on, on a new session, each object once', async () => {
    const { handle, connections, summaries } = makeHandler(stack);
    const objects = [
      await putLog(stack, 'logs/rollbackfail/a', linesOf([makeRow(1), makeRow(2)]).join('\n')),
      await putLog(stack, 'logs/rollbackfail/b', linesOf([makeRow(3)]).join('\n')),
    ];
    const event = eventFor(objects);
    const leased = await connections.lease();
    const before = leased.connection;
    leased.release();
    // An insert fails, then so does the ROLLBACK: the session may still hold the transaction.
    stack.sf.faults.failStatement(/^\s*INSERT INTO s3_access_logs \(/i);
    stack.sf.faults.failStatement(/^\s*ROLLBACK\b/i);
    const res = await handle(event);
    stack.sf.faults.clear();
    // Without the guard, the one-object retries would run inside the abandoned transaction.
    // With it, they run on a new session: both load, once.
    expect(res.batchItemFailures).toEqual([]);
    expect(summaries.at(-1)!.objectsLoaded).toBe(2);
    const after = await connections.lease();
    expect(after.connection).not.toBe(before);
    after.release();
    expect(await count(stack, 's3_access_logs', 'logs/rollbackfail/a')).toBe(2);
    expect(await count(stack, 's3_access_logs', 'logs/rollbackfail/b')).toBe(1);
    expect(await count(stack, 's3_access_logs_loads', 'logs/rollbackfail/a')).toBe(1);
    expect((await handle(event)).batchItemFailures).toEqual([]);
    expect(await count(stack, 's3_access_logs', 'logs/rollbackfail/a')).toBe(2);
  });

  it('a failed ROLLBACK after the rows went in: the retries run on a new session, so no row is committed twice', async () => {
    const { handle, summaries } = makeHandler(stack);
    const objects = [
      await putLog(stack, 'logs/rollbackafterrows/a', linesOf([makeRow(1), makeRow(2)]).join('\n')),
      await putLog(stack, 'logs/rollbackafterrows/b', linesOf([makeRow(3)]).join('\n')),
    ];
    // The claim fails after both objects' rows are inserted, then so does the ROLLBACK: the session
    // still holds those rows in an open transaction, where a later BEGIN starts nothing new.
    stack.sf.faults.failStatement(/^\s*MERGE INTO s3_access_logs_loads/i);
    stack.sf.faults.failStatement(/^\s*ROLLBACK\b/i);
    const res = await handle(eventFor(objects));
    stack.sf.faults.clear();
    // Retried on the same session, each object's COMMIT would also commit the abandoned rows.
    expect(res.batchItemFailures).toEqual([]);
    expect(summaries.at(-1)!.objectsLoaded).toBe(2);
    expect(await count(stack, 's3_access_logs', 'logs/rollbackafterrows/a')).toBe(2);
    expect(await count(stack, 's3_access_logs', 'logs/rollbackafterrows/b')).toBe(1);
    expect(await count(stack, 's3_access_logs_loads', 'logs/rollbackafterrows/a')).toBe(1);
  });

  it('starts no transaction too close to the Lambda timeout; those messages are retried', async () => {
    const { handle, summaries } = makeHandler(stack);
    const objects = [
      await putLog(stack, 'logs/deadline/a', linesOf([makeRow(1)]).join('\n')),
      await putLog(stack, 'logs/deadline/b', linesOf([makeRow(2)]).join('\n')),
    ];
    const event = eventFor(objects);
    // The batch transaction fails; with 60 s left, the one-object retries must not start.
    const fault = failCommits(stack, 1);
    const res = await handle(event, { getRemainingTimeInMillis: () => 60_000 });
    fault.clear();
    expect(failedIds(res)).toEqual(event.Records.map((r) => r.messageId).sort());
    expect(summaries[0]).toMatchObject({ objectsLoaded: 0, objectsFailed: 2, transactions: 0 });
    expect((await handle(event, { getRemainingTimeInMillis: () => 300_000 })).batchItemFailures).toEqual([]);
    expect(await count(stack, 's3_access_logs', 'logs/deadline/a')).toBe(1);
  });

  it('one bad object does not hold back the rest of the batch', async () => {
    const { handle } = makeHandler(stack);
    const good = await putLog(stack, 'logs/isolation/good', linesOf([makeRow(1)]).join('\n'));
    const other = await putLog(stack, 'logs/isolation/other', linesOf([makeRow(2)]).join('\n'));
    // Only the first COMMIT (the whole batch) fails; each object is then retried on its own.
    const fault = failCommits(stack, 1);
    const event = sqsEvent([notificationBody([good]), 'this is not an event', notificationBody([other])]);
    const res = await handle(event);
    fault.clear();
    expect(failedIds(res)).toEqual([event.Records[1]!.messageId]);
    expect(await count(stack, 's3_access_logs', good.key)).toBe(1);
    expect(await count(stack, 's3_access_logs', other.key)).toBe(1);
  });

  it('an S3 error fails only the message of that object', async () => {
    const { handle, summaries } = makeHandler(stack, { logBuckets: [LOG_BUCKET, 'ghost-bucket'] });
    const good = await putLog(stack, 'logs/s3error/good', linesOf([makeRow(1)]).join('\n'));
    // Allowed by configuration but absent: NoSuchBucket, which is not "object missing" and must be retried.
    const event = eventFor([good, { bucket: 'ghost-bucket', key: 'logs/s3error/x', size: 10, etag: 'abc' }]);
    const res = await handle(event);
    expect(failedIds(res)).toEqual([event.Records[1]!.messageId]);
    expect(await count(stack, 's3_access_logs', good.key)).toBe(1);
    expect(summaries[0]).toMatchObject({ objectsLoaded: 1, objectsFailed: 1 });
  });

  it('lines it cannot parse become rejects with reason and raw line; lines = rows + rejects', async () => {
    const { handle } = makeHandler(stack);
    const good = linesOf([makeRow(1), makeRow(2)]);
    const bad = ['garbage that is not a log line', good[0]!.replace('[01/May/2024', '[99/Foo/2024')];
    const body = `${[good[0], bad[0], '', good[1], bad[1]].join('\r\n')}\r\n`;
    const o = await putLog(stack, 'logs/rejects/a', body);
    expect((await handle(eventFor([o]))).batchItemFailures).toEqual([]);

    expect(await count(stack, 's3_access_logs', o.key)).toBe(2);
    const rejects = await query(
      stack,
      'SELECT logline, reason, rawline FROM s3_access_logs_rejects WHERE logkey = ? ORDER BY logline',
      [o.key],
    );
    expect(rejects.map((r) => ({ ...r, logline: Number(r.logline) }))).toEqual([
      { logline: 2, reason: (parseLine(bad[0]!) as { reason: string }).reason, rawline: bad[0] },
      { logline: 5, reason: (parseLine(bad[1]!) as { reason: string }).reason, rawline: bad[1] },
    ]);
    const rows = await query(stack, 'SELECT logline FROM s3_access_logs WHERE logkey = ? ORDER BY logline', [o.key]);
    expect(rows.map((r) => Number(r.logline))).toEqual([1, 4]);
    const [ledger] = await query(
      stack,
      'SELECT linecount, rowcount, rejectcount FROM s3_access_logs_loads WHERE logkey = ?',
      [o.key],
    );
    expect([ledger!.linecount, ledger!.rowcount, ledger!.rejectcount].map(Number)).toEqual([4, 2, 2]);
  });

  it('a CR-only object loads one row per line; a truncated gzip loads its decodable lines plus a truncated_gzip reject', async () => {
    const { handle } = makeHandler(stack);
    const cr = await putLog(
      stack,
      'logs/silent/cr-only',
      `${linesOf([makeRow(1), makeRow(2), makeRow(3)]).join('\r')}\r`,
    );
    const text = `${linesOf(Array.from({ length: 300 }, (_, i) => makeRow(i))).join('\n')}\n`;
    const gz = gzipSync(Buffer.from(text));
    const cut = await putLog(stack, 'logs/silent/truncated.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    expect((await handle(eventFor([cr, cut]))).batchItemFailures).toEqual([]);

    const crRows = await query(
      stack,
      'SELECT requestid, extrafields FROM s3_access_logs WHERE logkey = ? ORDER BY logline',
      [cr.key],
    );
    expect(crRows).toEqual([1, 2, 3].map((i) => ({ requestid: `3E57427F3EXAMPLE${i}`, extrafields: null })));

    const [ledger] = await query(
      stack,
      'SELECT linecount, rowcount, rejectcount FROM s3_access_logs_loads WHERE logkey = ?',
      [cut.key],
    );
    const [lines, rows, rejects] = [ledger!.linecount, ledger!.rowcount, ledger!.rejectcount].map(Number);
    expect(rows).toBeGreaterThan(50);
    expect(rows).toBeLessThan(300);
    expect(lines).toBe(rows! + rejects!);
    const recorded = await query(stack, 'SELECT logline, reason FROM s3_access_logs_rejects WHERE logkey = ?', [
      cut.key,
    ]);
    expect(recorded.map((r) => r.reason)).toEqual(['truncated_gzip']);
    expect(Number(recorded[0]!.logline)).toBe(lines);
  });

  it('skips a missing object and a disallowed bucket or prefix, and acknowledges test events', async () => {
    const { handle, summaries } = makeHandler(stack);
    const gone = await putLog(stack, 'logs/missing/a', linesOf([makeRow(1)]).join('\n'));
    await stack.aws.s3.send(new DeleteObjectCommand({ Bucket: gone.bucket, Key: gone.key }));
    const elsewhere = await putLog(stack, 'logs/elsewhere/a', linesOf([makeRow(1)]).join('\n'), OTHER_BUCKET);
    const wrongPrefix = await putLog(stack, 'other/a', linesOf([makeRow(1)]).join('\n'));
    const testEvent = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: LOG_BUCKET });
    const res = await handle(
      sqsEvent([notificationBody([gone]), notificationBody([elsewhere]), notificationBody([wrongPrefix]), testEvent]),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(summaries[0]!.skipped).toMatchObject({ missing: 1, 'not-allowed': 2 });
    for (const k of [gone.key, elsewhere.key, wrongPrefix.key]) {
      expect(await count(stack, 's3_access_logs', k)).toBe(0);
      expect(await count(stack, 's3_access_logs_loads', k)).toBe(0);
    }
  });

  it('skips an object overwritten since its event (ETag mismatch)', async () => {
    const { handle, summaries } = makeHandler(stack);
    const first = await putLog(stack, 'logs/changed/a', linesOf([makeRow(1)]).join('\n'));
    await putLog(stack, 'logs/changed/a', linesOf([makeRow(1), makeRow(2)]).join('\n'));
    expect((await handle(eventFor([first]))).batchItemFailures).toEqual([]);
    expect(summaries[0]!.skipped.changed).toBe(1);
    expect(await count(stack, 's3_access_logs', first.key)).toBe(0);
  });

  it('force replaces the rows and rejects of a loaded object without duplicating', async () => {
    const { handle, summaries } = makeHandler(stack);
    const v1 = await putLog(stack, 'logs/force/a', [...linesOf([makeRow(1), makeRow(2)]), 'bad line'].join('\n'));
    await handle(eventFor([v1]));
    expect(await count(stack, 's3_access_logs', v1.key)).toBe(2);
    expect(await count(stack, 's3_access_logs_rejects', v1.key)).toBe(1);

    const v2 = await putLog(stack, 'logs/force/a', linesOf([makeRow(7), makeRow(8), makeRow(9)]).join('\n'));
    // Overwrite policy: without force, a new version of a loaded key fails loudly (never acknowledged
    // as a duplicate with its new lines unseen), whether it comes as an S3 event or a replay.
    for (const event of [eventFor([v2]), eventFor([v2], { force: false, id: 'bf-1' })]) {
      expect((await handle(event)).batchItemFailures).toHaveLength(1);
      expect(summaries.at(-1)).toMatchObject({ objectsOverwritten: 1, objectsFailed: 1, objectsLoaded: 0 });
    }
    expect(await count(stack, 's3_access_logs', v1.key)).toBe(2);
    // The same version again is a plain duplicate.
    expect((await handle(eventFor([v1]))).batchItemFailures).toEqual([]);
    expect(summaries.at(-1)!.skipped.duplicate).toBe(1);
    // With force, twice: replaced, never doubled.
    expect((await handle(eventFor([v2], { force: true, id: 'bf-2' }))).batchItemFailures).toEqual([]);
    expect((await handle(eventFor([v2], { force: true, id: 'bf-3' }))).batchItemFailures).toEqual([]);
    const rows = await query(stack, 'SELECT requestid FROM s3_access_logs WHERE logkey = ? ORDER BY logline', [v1.key]);
    expect(rows.map((r) => r.requestid)).toEqual(['3E57427F3EXAMPLE7', '3E57427F3EXAMPLE8', '3E57427F3EXAMPLE9']);
    expect(await count(stack, 's3_access_logs_rejects', v1.key)).toBe(0);
    const [ledger] = await query(
      stack,
      'SELECT etag, rowcount, loadcount, replayid FROM s3_access_logs_loads WHERE logkey = ?',
      [v1.key],
    );
    expect(ledger).toMatchObject({ etag: v2.etag, replayid: 'bf-3' });
    expect(Number(ledger!.rowcount)).toBe(3);
    expect(Number(ledger!.loadcount)).toBe(3);
  });

  it('streams objects above the memory budget, one transaction each', async () => {
    const { handle, summaries } = makeHandler(stack, { memoryBudgetBytes: 600, insertChunkRows: 3 });
    const objects = [];
    for (let o = 0; o < 3; o++)
      objects.push(
        await putLog(
          stack,
          `logs/stream/${o}`,
          [...linesOf(Array.from({ length: 7 }, (_, i) => makeRow(i))), 'bad'].join('\n'),
        ),
      );
    expect((await handle(eventFor(objects))).batchItemFailures).toEqual([]);
    for (const o of objects) {
      expect(await count(stack, 's3_access_logs', o.key)).toBe(7);
      expect(await count(stack, 's3_access_logs_rejects', o.key)).toBe(1);
      const [l] = await query(
        stack,
        'SELECT linecount, rowcount, rejectcount, bytes FROM s3_access_logs_loads WHERE logkey = ?',
        [o.key],
      );
      expect([l!.linecount, l!.rowcount, l!.rejectcount, l!.bytes].map(Number)).toEqual([8, 7, 1, o.size]);
    }
    expect(summaries[0]).toMatchObject({ objectsLoaded: 3, transactions: 3, rows: 21, rejects: 3 });
    // Again: all duplicates.
    await handle(eventFor(objects));
    expect(summaries[1]!.skipped.duplicate).toBe(3);
    expect(await count(stack, 's3_access_logs', objects[0]!.key)).toBe(7);
  });

  it('streams a gzip object whose decoded text outgrows the memory budget, though its stored size fits', async () => {
    const { handle, summaries } = makeHandler(stack, { memoryBudgetBytes: 4_000, insertChunkRows: 5 });
    const text = linesOf(Array.from({ length: 40 }, (_, i) => makeRow(i))).join('\n');
    const gz = gzipSync(text);
    expect(gz.length).toBeLessThan(4_000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(4_000);
    const o = await putLog(stack, 'logs/gzip-budget/a.gz', gz);
    const small = await putLog(stack, 'logs/gzip-budget/small', linesOf([makeRow(1)]).join('\n'));
    expect((await handle(eventFor([small, o]))).batchItemFailures).toEqual([]);
    expect(await count(stack, 's3_access_logs', o.key)).toBe(40);
    expect(await count(stack, 's3_access_logs', small.key)).toBe(1);
    // The small object is buffered (one transaction); the gzip one is streamed in its own.
    expect(summaries[0]).toMatchObject({ objectsLoaded: 2, transactions: 2, rows: 41 });
  });

  it('raw mode stages every line with lineage, through the same ledger', async () => {
    const { handle } = makeHandler(stack, { loadMode: 'raw' });
    const lines = [...linesOf([makeRow(1), makeRow(2)]), 'not parseable'];
    const o = await putLog(stack, 'logs/raw/a', `${lines.join('\n')}\n`);
    expect((await handle(eventFor([o]))).batchItemFailures).toEqual([]);
    await handle(eventFor([o]));
    const staged = await query(
      stack,
      'SELECT logbucket, logkey, logline, raw FROM s3_access_logs_staging WHERE logkey = ? ORDER BY logline',
      [o.key],
    );
    expect(staged.map((r) => ({ ...r, logline: Number(r.logline) }))).toEqual(
      lines.map((raw, i) => ({ logbucket: LOG_BUCKET, logkey: o.key, logline: i + 1, raw })),
    );
    expect(await count(stack, 's3_access_logs', o.key)).toBe(0);
    expect(await count(stack, 's3_access_logs_rejects', o.key)).toBe(0);
    const [l] = await query(
      stack,
      'SELECT mode, linecount, rowcount, rejectcount FROM s3_access_logs_loads WHERE logkey = ?',
      [o.key],
    );
    expect(l!.mode).toBe('raw');
    expect([l!.linecount, l!.rowcount, l!.rejectcount].map(Number)).toEqual([3, 3, 0]);
  });

  it("concurrent invocations of one handler each get their own session: one batch's ROLLBACK never ends the other's transaction", async () => {
    // Count logins: one Snowflake session per login.
    let logins = 0;
    const connections = createConnectionProvider({
      get: async () => {
        logins++;
        return stack.credentials;
      },
      forget() {},
    });
    const handle = createIngestHandler({
      config: ingestConfig(stack),
      s3: stack.aws.s3,
      connections,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const a = await putLog(stack, 'logs/concurrent-sessions/a', linesOf([makeRow(1), makeRow(2)]).join('\n'));
    const b = await putLog(
      stack,
      'logs/concurrent-sessions/b',
      linesOf([makeRow(3), makeRow(4), makeRow(5)]).join('\n'),
    );
    // The first INSERT (either batch's) waits, so the other batch's statements arrive meanwhile, then fails.
    stack.sf.faults.stallStatement(/^\s*INSERT INTO s3_access_logs \(/i, 500);
    stack.sf.faults.failStatement(/^\s*INSERT INTO s3_access_logs \(/i);
    const ea = eventFor([a]);
    const eb = eventFor([b]);
    const first = await Promise.all([handle(ea), handle(eb)]);
    stack.sf.faults.clear();
    expect(logins).toBe(2);
    expect(first.flatMap((r) => r.batchItemFailures)).toHaveLength(1);
    // Redeliver both (SQS would redeliver the failed one; a duplicate delivery of the other is harmless),
    // one at a time: the pooled sessions are reused, no new login.
    for (const e of [ea, eb]) expect((await handle(e)).batchItemFailures).toEqual([]);
    expect(logins).toBe(2);
    expect(await count(stack, 's3_access_logs', a.key)).toBe(2);
    expect(await count(stack, 's3_access_logs', b.key)).toBe(3);
    for (const o of [a, b]) {
      const [l] = await query(stack, 'SELECT linecount, rowcount FROM s3_access_logs_loads WHERE logkey = ?', [o.key]);
      expect(Number(l!.rowcount)).toBe(Number(l!.linecount));
    }
    await connections.close();
  });

  it('reconnects when the cached connection is no longer valid', async () => {
    const h = makeHandler(stack);
    const o1 = await putLog(stack, 'logs/reconnect/a', linesOf([makeRow(1)]).join('\n'));
    await h.handle(eventFor([o1]));
    const leased = await h.connections.lease();
    await new Promise<void>((r) => leased.connection.destroy(() => r()));
    leased.release();
    const o2 = await putLog(stack, 'logs/reconnect/b', linesOf([makeRow(2)]).join('\n'));
    expect((await h.handle(eventFor([o2]))).batchItemFailures).toEqual([]);
    expect(await count(stack, 's3_access_logs', o2.key)).toBe(1);
  });
});

/** Makes the next `n` COMMIT statements fail (snowflake-local fault injection). */
function failCommits(s: Stack, n: number): { clear(): void } {
  return injectCommitFailures(s, n);
}
