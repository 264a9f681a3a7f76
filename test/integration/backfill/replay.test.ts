/**
 * Replay end to end: fauxqs (S3 + SQS) and snowflake-local with the real snowflake-sdk. The
 * backfill reads the real ledger, the real ingest handler drains the queue, and the assertions
 * count rows in Snowflake: every object's rows exactly once after a partial load, a retried
 * backfill, and a forced replay.
 */
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill, type BackfillSummary } from '../../../functions/backfill/core.ts';
import { snowflakeLedger } from '../../../functions/backfill/ledger.ts';
import { executeWith } from '../../../functions/backfill/snowflake.ts';
import { notificationBody } from '../../../local/harness/events.ts';
import { createConnectionProvider, type ConnectionProvider } from '../../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../../shared/snowflake/credentials.ts';
import {
  LOG_BUCKET,
  linesOf,
  makeHandler,
  makeRow,
  query,
  sqsEvent,
  startStack,
  type Stack,
  type TestHandler,
} from '../ingest/fixtures.ts';
import {
  DAY,
  HOUR,
  ROOT_A,
  ROOT_B,
  budgetContext,
  collectingDeps,
  expectedSelection,
  putAll,
  quietLogger,
  settings,
  type Fixture,
} from './fixtures.ts';

const LINES_PER_OBJECT = 3;
const DAY0 = Date.UTC(2026, 10, 1); // 2026-11-01
let stack: Stack;
let ingest: TestHandler;
let connections: ConnectionProvider;
let queueUrl: string;
const objects: Fixture[] = [];

const pad = (n: number) => String(n).padStart(2, '0');
function stamp(t: number) {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
}
function folders(t: number) {
  const d = new Date(t);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/`;
}

/** Drains the ingest queue through the real ingest handler, ten messages per batch. */
async function drain(): Promise<number> {
  let handled = 0;
  for (;;) {
    const r = await stack.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = r.Messages ?? [];
    if (messages.length === 0) return handled;
    const response = await ingest.handle(sqsEvent(messages.map((m) => m.Body!)));
    expect(response.batchItemFailures).toEqual([]);
    await stack.aws.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    handled += messages.length;
  }
}

async function rowsPerKey(): Promise<Map<string, number>> {
  const rows = await query<{ logkey: string; n: unknown }>(
    stack,
    'SELECT logkey, COUNT(*) AS n FROM s3_access_logs GROUP BY logkey',
  );
  return new Map(rows.map((r) => [r.logkey, Number(r.n)]));
}

function backfillDeps() {
  return collectingDeps({
    config: settings({ queueUrl, logBucket: LOG_BUCKET }),
    s3: stack.aws.s3,
    sqs: stack.aws.sqs,
    ledger: snowflakeLedger(executeWith(connections)),
    logger: quietLogger,
  });
}

beforeAll(async () => {
  stack = await startStack();
  ingest = makeHandler(stack);
  connections = createConnectionProvider(credentialsProvider({ kind: 'env', credentials: stack.credentials }));
  queueUrl = (await stack.aws.sqs.send(new CreateQueueCommand({ QueueName: 'backfill-ingest' }))).QueueUrl!;
  // 72 objects over three days, every fourth hour, in the three layouts; 3 lines each.
  for (let i = 0; i < 72; i++) {
    const t = DAY0 + i * 3 * HOUR + (i % 5) * 60_000 + 7_000;
    const unique = `${(0xa0000 + i).toString(16).toUpperCase()}0F0F0F0F`;
    if (i % 3 === 0) objects.push({ key: `logs/${stamp(t)}-${unique}`, time: t, wholeDay: false, layout: 'simple' });
    else if (i % 3 === 1)
      objects.push({
        key: `logs/${ROOT_A}${folders(t)}${stamp(t)}-${unique}`,
        time: t,
        wholeDay: false,
        layout: 'partitioned',
      });
    else {
      const day = Math.floor(t / DAY) * DAY;
      objects.push({
        key: `logs/${ROOT_B}${folders(day)}${stamp(day)}-${unique}`,
        time: day,
        wholeDay: true,
        layout: 'partitioned',
      });
    }
  }
  await putAll(
    stack.aws,
    LOG_BUCKET,
    objects.map((o, i) => ({
      key: o.key,
      body: `${linesOf(Array.from({ length: LINES_PER_OBJECT }, (_, j) => makeRow(i * 10 + j, { requestid: `REQ${i}X${j}` }))).join('\n')}\n`,
    })),
  );
}, 60_000);

afterAll(async () => {
  await connections?.close();
  await stack?.stop();
});

describe('replay with the real ledger and ingest handler', () => {
  const from = '2026-11-01T12:00:00Z';
  const to = '2026-11-02T12:00:00Z';
  const window = [Date.parse(from) - HOUR, Date.parse(to) + 6 * HOUR] as const;

  it('after a partial load enqueues only the missing objects; after draining, each object has its rows once', async () => {
    const expected = expectedSelection(objects, ...window);
    // A partial load: every other selected object (and one outside the range) arrive the normal way.
    const preloaded = [...expected].filter((_, i) => i % 2 === 0);
    const outside = objects.find((o) => !expected.has(o.key))!;
    const first = await ingest.handle(
      sqsEvent([...preloaded, outside.key].map((key) => notificationBody([{ bucket: LOG_BUCKET, key }]))),
    );
    expect(first.batchItemFailures).toEqual([]);

    const deps = backfillDeps();
    const summary = (await runBackfill(deps, { from, to }, budgetContext(Infinity, 'e2e-1'))) as BackfillSummary;
    expect(summary).toMatchObject({
      selected: expected.size,
      alreadyLoaded: preloaded.length,
      enqueued: expected.size - preloaded.length,
      done: true,
    });

    // The same invocation retried (Lambda async retry: same request id) before the queue drained:
    // the duplicate messages carry the same replay id and the ledger absorbs them.
    const retried = (await runBackfill(deps, { from, to }, budgetContext(Infinity, 'e2e-1'))) as BackfillSummary;
    expect(retried.id).toBe(summary.id);
    expect(retried.enqueued).toBe(summary.enqueued);

    expect(await drain()).toBe(2 * summary.enqueued);
    const perKey = await rowsPerKey();
    for (const key of expected) expect(perKey.get(key), key).toBe(LINES_PER_OBJECT);
    expect(perKey.get(outside.key)).toBe(LINES_PER_OBJECT);
    expect(perKey.size).toBe(expected.size + 1);
    const ledger = await query<{ n: unknown; c: unknown }>(
      stack,
      'SELECT COUNT(*) AS n, COUNT(DISTINCT logkey) AS c FROM s3_access_logs_loads',
    );
    expect(Number(ledger[0]!.n)).toBe(expected.size + 1);
    expect(Number(ledger[0]!.c)).toBe(expected.size + 1);

    // Nothing is missing any more.
    const again = (await runBackfill(
      backfillDeps(),
      { from, to },
      budgetContext(Infinity, 'e2e-2'),
    )) as BackfillSummary;
    expect(again).toMatchObject({ selected: expected.size, alreadyLoaded: expected.size, enqueued: 0 });
  });

  it('force replaces the rows of loaded objects without duplicating them', async () => {
    const dayFrom = '2026-11-01T20:00:00Z';
    const dayTo = '2026-11-03T00:00:00Z';
    const forcedKeys = expectedSelection(objects, Date.parse(dayFrom) - HOUR, Date.parse(dayTo) + 6 * HOUR);
    const before = await rowsPerKey();
    const forced = (await runBackfill(
      backfillDeps(),
      { from: dayFrom, to: dayTo, force: true },
      budgetContext(Infinity, 'e2e-force'),
    )) as BackfillSummary;
    expect(forced).toMatchObject({
      selected: forcedKeys.size,
      enqueued: forcedKeys.size,
      alreadyLoaded: 0,
      force: true,
    });
    // Some of them were already loaded, some were not: both paths of a forced load run.
    expect([...forcedKeys].some((k) => before.has(k))).toBe(true);
    expect([...forcedKeys].some((k) => !before.has(k))).toBe(true);

    expect(await drain()).toBe(forcedKeys.size);
    const after = await rowsPerKey();
    for (const key of forcedKeys) expect(after.get(key), key).toBe(LINES_PER_OBJECT);
    for (const [key, n] of before) expect(after.get(key), key).toBe(n);
    const ledger = await query<{ logkey: string; replayid: string | null; loadcount: unknown }>(
      stack,
      'SELECT logkey, replayid, loadcount FROM s3_access_logs_loads',
    );
    const replayed = ledger.filter((r) => forcedKeys.has(r.logkey) && before.has(r.logkey));
    expect(replayed.length).toBeGreaterThan(0);
    for (const r of replayed) {
      expect(r.replayid).toBe(forced.id);
      expect(Number(r.loadcount)).toBe(2);
    }
    const [total] = await query<{ n: unknown }>(stack, 'SELECT COUNT(*) AS n FROM s3_access_logs_loads');
    expect(Number(total!.n)).toBe(new Set([...before.keys(), ...forcedKeys]).size);
  });
});
