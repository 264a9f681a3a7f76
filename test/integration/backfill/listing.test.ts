/**
 * Backfill against fauxqs with real S3/SQS clients: 5,000 log objects in both key layouts over
 * seven days. Date selection, LIST calls, the ledger skip, continuation and DLQ redrive.
 */
import { CreateQueueCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill, type BackfillSummary } from '../../../functions/backfill/core.ts';
import type { RedriveSummary } from '../../../functions/backfill/redrive.ts';
import type { BackfillPayload } from '../../../functions/backfill/request.ts';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';
import { parseMessageBody } from '../../../shared/s3/events.ts';
import {
  DAY,
  HOUR,
  ROOT_A,
  ROOT_B,
  budgetContext,
  collectingDeps,
  expectedSelection,
  makeFixtures,
  putAll,
  quietLogger,
  recordListCalls,
  setLedger,
  settings,
  type Fixture,
} from './fixtures.ts';

const BUCKET = 'log-bucket';
const START = Date.UTC(2026, 9, 30); // 2026-10-30, seven days to 2026-11-05
const FROM = '2026-11-01T05:00:00Z';
const TO = '2026-11-02T20:00:00Z';
const WINDOW_FROM = Date.parse(FROM) - HOUR;
const WINDOW_TO = Date.parse(TO) + 6 * HOUR;

let aws: AwsLocal;
let fixtures: Fixture[];
let listRecord: { prefixes: string[] };
let queueSeq = 0;

async function newQueue(name = 'ingest'): Promise<string> {
  const out = await aws.sqs.send(new CreateQueueCommand({ QueueName: `${name}-${++queueSeq}` }));
  return out.QueueUrl!;
}

/** Every message on a queue, read without consuming it. */
async function queuedKeys(queueUrl: string): Promise<string[]> {
  const q = (await aws.inspectQueue(queueUrl))!;
  return q.messages.ready.map((m) => {
    const parsed = parseMessageBody(m.body);
    if (parsed.kind !== 'objects') throw new Error(`unexpected message ${m.body}`);
    return parsed.objects[0]!.key;
  });
}

beforeAll(async () => {
  aws = await startAwsLocal();
  fixtures = makeFixtures('logs/', START, 7, 5000);
  const started = Date.now();
  await putAll(aws, BUCKET, [
    ...fixtures.map((f) => ({ key: f.key })),
    // Not log objects: one inside a listed day prefix, one beside them, one under another prefix.
    { key: 'logs/2026-11-01-notes.txt' },
    { key: 'logs/readme.txt' },
    { key: 'archive/2026-11-01-10-00-00-0123456789ABCDEF' },
  ]);
  console.log(`wrote ${fixtures.length + 3} objects in ${Date.now() - started} ms`);
  listRecord = recordListCalls(aws.s3);
}, 60_000);

afterAll(async () => {
  await aws?.stop();
});

describe('backfill listing and selection (5,000 objects, both layouts, 7 days)', () => {
  it('selects exactly the padded range and lists only the day prefixes it needs', async () => {
    const queueUrl = await newQueue();
    const expected = expectedSelection(fixtures, WINDOW_FROM, WINDOW_TO);
    // Every object whose key time is in the padded window but outside [from, to) is there because of the padding.
    const paddedOnly = [...expected].filter((k) => {
      const f = fixtures.find((x) => x.key === k)!;
      return !f.wholeDay && (f.time < Date.parse(FROM) || f.time >= Date.parse(TO));
    });
    expect(paddedOnly.length).toBeGreaterThan(0);

    const deps = collectingDeps({
      config: settings({ queueUrl }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    listRecord.prefixes.length = 0;
    const t0 = Date.now();
    const summary = (await runBackfill(deps, { from: FROM, to: TO }, budgetContext())) as BackfillSummary;
    const ms = Date.now() - t0;

    const days = ['2026/11/01/', '2026/11/02/', '2026/11/03/'];
    const dataPrefixes = [
      'logs/2026-11-01-',
      'logs/2026-11-02-',
      'logs/2026-11-03-',
      ...days.map((d) => `logs/${ROOT_A}${d}`),
      ...days.map((d) => `logs/${ROOT_B}${d}`),
    ];
    // Discovery of the partition roots: the prefix itself (twice: the second call jumps past the
    // 2026 simple keys), the account, and each region.
    const discovery = [
      'logs/',
      'logs/',
      'logs/123456789012/',
      'logs/123456789012/eu-west-1/',
      'logs/123456789012/us-east-1/',
    ];
    expect([...listRecord.prefixes].sort()).toEqual([...discovery, ...dataPrefixes].sort());
    expect(summary.listCalls).toBe(listRecord.prefixes.length);

    // Listed: everything in the three days' prefixes (plus the one non-log key there), nothing else.
    const inListedDays = fixtures.filter((f) => f.time >= Date.UTC(2026, 10, 1) && f.time < Date.UTC(2026, 10, 4));
    expect(summary.listed).toBe(inListedDays.length + 1);
    expect(summary.ignored).toBe(1);
    expect(summary.selected).toBe(expected.size);
    expect(summary.enqueued).toBe(expected.size);
    expect(summary.alreadyLoaded).toBe(0);
    expect(summary.done).toBe(true);
    expect(summary.padding).toMatchObject({
      beforeMinutes: 60,
      afterMinutes: 360,
      keyTimeFrom: new Date(WINDOW_FROM).toISOString(),
      keyTimeTo: new Date(WINDOW_TO).toISOString(),
    });

    const keys = await queuedKeys(queueUrl);
    expect(keys.length).toBe(expected.size);
    expect(new Set(keys)).toEqual(expected);
    console.log(
      `5,000-object case: ${summary.listCalls} LIST calls, listed ${summary.listed}, selected ${summary.selected} ` +
        `in ${ms} ms (${Math.round((summary.listed / ms) * 1000)} objects listed/s incl. enqueueing)`,
    );
  });

  it('without a range (force) lists the whole prefix once and selects every log object', async () => {
    const deps = collectingDeps({
      config: settings({ queueUrl: await newQueue() }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    listRecord.prefixes.length = 0;
    const t0 = Date.now();
    const s = (await runBackfill(deps, { force: true, dryRun: true }, budgetContext())) as BackfillSummary;
    const ms = Date.now() - t0;
    expect(s).toMatchObject({
      listed: fixtures.length + 2,
      ignored: 2,
      selected: fixtures.length,
      enqueued: fixtures.length,
      prefixesPlanned: 1,
    });
    expect(s.padding.keyTimeFrom).toBeUndefined();
    expect(new Set(listRecord.prefixes)).toEqual(new Set(['logs/']));
    expect(s.listCalls).toBe(Math.ceil((fixtures.length + 2) / 1000));
    console.log(
      `whole prefix, dry run: ${s.listCalls} LIST calls, listed ${s.listed} in ${ms} ms (${Math.round((s.listed / ms) * 1000)} objects listed/s)`,
    );
  });

  it('enqueues only the objects the ledger does not hold, and dryRun only counts', async () => {
    const queueUrl = await newQueue();
    const expected = [...expectedSelection(fixtures, WINDOW_FROM, WINDOW_TO)];
    const loaded = new Set(expected.filter((_, i) => i % 3 === 0));
    const deps = collectingDeps({
      config: settings({ queueUrl }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(loaded),
      logger: quietLogger,
    });

    const dry = (await runBackfill(deps, { from: FROM, to: TO, dryRun: true }, budgetContext())) as BackfillSummary;
    expect(dry).toMatchObject({
      selected: expected.length,
      alreadyLoaded: loaded.size,
      enqueued: expected.length - loaded.size,
      dryRun: true,
    });
    expect(await queuedKeys(queueUrl)).toEqual([]);

    const real = (await runBackfill(deps, { from: FROM, to: TO }, budgetContext())) as BackfillSummary;
    expect(real.alreadyLoaded).toBe(loaded.size);
    const keys = await queuedKeys(queueUrl);
    expect(new Set(keys)).toEqual(new Set(expected.filter((k) => !loaded.has(k))));
    expect(keys.length).toBe(expected.length - loaded.size);

    // force re-sends the loaded ones too, marked as forced (a shorter range keeps this quick).
    const forcedQueue = await newQueue();
    const shortTo = '2026-11-01T08:00:00Z';
    const forcedExpected = expectedSelection(fixtures, WINDOW_FROM, Date.parse(shortTo) + 6 * HOUR);
    expect([...forcedExpected].filter((k) => loaded.has(k)).length).toBeGreaterThan(0);
    const forced = (await runBackfill(
      { ...deps, config: settings({ queueUrl: forcedQueue }) },
      { from: FROM, to: shortTo, force: true },
      budgetContext(),
    )) as BackfillSummary;
    expect(forced).toMatchObject({
      selected: forcedExpected.size,
      alreadyLoaded: 0,
      enqueued: forcedExpected.size,
      force: true,
    });
    expect(new Set(await queuedKeys(forcedQueue))).toEqual(forcedExpected);
    const body = (await aws.inspectQueue(forcedQueue))!.messages.ready[0]!.body;
    expect(JSON.parse(body).replay).toEqual({ force: true, id: forced.id });
  });

  it('stops at maxObjects', async () => {
    const queueUrl = await newQueue();
    const deps = collectingDeps({
      config: settings({ queueUrl }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    const s = (await runBackfill(deps, { from: FROM, to: TO, maxObjects: 25 }, budgetContext())) as BackfillSummary;
    expect(s).toMatchObject({ selected: 25, enqueued: 25, truncated: true });
    expect(await queuedKeys(queueUrl)).toHaveLength(25);
  });

  it('continues across three invocations without losing or duplicating an object', async () => {
    const queueUrl = await newQueue();
    const expected = expectedSelection(fixtures, WINDOW_FROM, WINDOW_TO);
    // Pages of 100 keys, so invocations hand over both mid-page and between pages of one prefix.
    const deps = collectingDeps({
      config: settings({ queueUrl, pageSize: 100 }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    // Measure how many time checks one whole run makes, then give each invocation a third of them.
    const probe = budgetContext();
    await runBackfill(deps, { from: FROM, to: TO, dryRun: true }, probe);
    const perInvocation = Math.ceil(probe.calls / 3) + 1;

    const summaries: BackfillSummary[] = [];
    let payload: BackfillPayload = { from: FROM, to: TO };
    for (let n = 0; n < 10; n++) {
      const s = (await runBackfill(deps, payload, budgetContext(perInvocation, 'req-cont'))) as BackfillSummary;
      summaries.push(s);
      if (s.done) break;
      expect(s.continuedAs).toBe(`invocation-${deps.continued.length + 1}`);
      payload = deps.continued.at(-1)!;
      // The continuation travels as JSON, like an async Invoke payload.
      expect(JSON.stringify(payload).length).toBeLessThan(10_000);
    }
    expect(summaries.map((s) => s.invocation)).toEqual([1, 2, 3]);
    expect(summaries.map((s) => s.done)).toEqual([false, false, true]);
    const last = summaries.at(-1)!;
    expect(last).toMatchObject({ selected: expected.size, enqueued: expected.size, id: 'backfill-req-cont' });

    const keys = await queuedKeys(queueUrl);
    expect(keys.length).toBe(expected.size); // nothing duplicated
    expect(new Set(keys)).toEqual(expected); // nothing lost
  });

  it('resumes after the last handled key when S3 refuses a stale continuation token', async () => {
    let queueUrl = '';
    const expected = expectedSelection(fixtures, WINDOW_FROM, WINDOW_TO);
    const deps = collectingDeps({
      config: settings({ queueUrl, pageSize: 100 }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    // S3 answers an expired or foreign token with InvalidArgument; make it so for 'stale'.
    aws.s3.middlewareStack.add(
      (next) => async (args) => {
        if ((args.input as { ContinuationToken?: string }).ContinuationToken === 'stale') {
          throw Object.assign(new Error('The continuation token provided is incorrect'), { name: 'InvalidArgument' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'staleToken' },
    );
    try {
      // Stop somewhere inside a prefix's second or later page (a token is in the cursor).
      let checks = 5;
      for (;;) {
        deps.continued.length = 0;
        queueUrl = await newQueue();
        deps.config = settings({ queueUrl, pageSize: 100 });
        const s = (await runBackfill(
          deps,
          { from: FROM, to: TO },
          budgetContext(checks, 'req-stale'),
        )) as BackfillSummary;
        expect(s.done).toBe(false);
        const state = deps.continued[0]!.continuation as { s3Token?: string; position: number };
        if (state.s3Token && state.position > 0) break;
        checks += 3;
        expect(checks).toBeLessThan(200);
      }
      const payload = deps.continued[0]!;
      (payload.continuation as { s3Token: string }).s3Token = 'stale';
      const last = (await runBackfill(deps, payload, budgetContext())) as BackfillSummary;
      expect(last).toMatchObject({ done: true, selected: expected.size, enqueued: expected.size });
      const keys = await queuedKeys(queueUrl);
      expect(keys.length).toBe(expected.size);
      expect(new Set(keys)).toEqual(expected);
    } finally {
      aws.s3.middlewareStack.remove('staleToken');
    }
  });

  it('a retried invocation resumes from its own cursor and sends the same messages', async () => {
    const queueUrl = await newQueue();
    const deps = collectingDeps({
      config: settings({ queueUrl }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    await runBackfill(deps, { from: FROM, to: TO }, budgetContext(30, 'req-retry'));
    const continuation = deps.continued[0]!;
    const before = (await aws.inspectQueue(queueUrl))!.messages.ready.length;
    // Invocation 2 twice (a Lambda retry), each cut short the same way.
    await runBackfill(deps, continuation, budgetContext(30));
    await runBackfill(deps, continuation, budgetContext(30));
    const ready = (await aws.inspectQueue(queueUrl))!.messages.ready.slice(before);
    const half = ready.length / 2;
    expect(half).toBeGreaterThan(0);
    const attrs = ready.map((m) => m.messageAttributes?.backfillDedupKey?.StringValue);
    expect(attrs.slice(0, half)).toEqual(attrs.slice(half));
    expect(ready.slice(0, half).map((m) => m.body)).toEqual(ready.slice(half).map((m) => m.body));
    // Both hand over at the same cursor.
    expect(deps.continued[1]).toEqual(deps.continued[2]);
  });
});

describe('DLQ redrive', () => {
  it('moves every DLQ message back to the ingest queue and reports how many', async () => {
    const queueUrl = await newQueue();
    const dlqUrl = await newQueue('ingest-dlq');
    const bodies = Array.from({ length: 23 }, (_, i) => JSON.stringify({ Records: [], n: i }));
    for (let i = 0; i < bodies.length; i += 10) {
      await aws.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: `e${j}`, MessageBody: b })),
        }),
      );
    }
    const deps = collectingDeps({
      config: settings({ queueUrl, dlqUrl }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    const dry = (await runBackfill(deps, { redriveDlq: true, dryRun: true }, budgetContext())) as RedriveSummary;
    expect(dry).toMatchObject({ moved: 0, waiting: 23 });

    const s = (await runBackfill(deps, { redriveDlq: true }, budgetContext())) as RedriveSummary;
    expect(s).toMatchObject({ redriveDlq: true, moved: 23, failed: 0, done: true });
    const dlq = (await aws.inspectQueue(dlqUrl))!;
    expect(dlq.messages.ready.length + dlq.messages.inflight.length).toBe(0);
    const moved = (await aws.inspectQueue(queueUrl))!.messages.ready.map((m) => m.body);
    expect(moved.sort()).toEqual([...bodies].sort());
  });

  it('refuses a redrive when no DLQ is configured, naming the field', async () => {
    const deps = collectingDeps({
      config: settings({ queueUrl: await newQueue() }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    await expect(runBackfill(deps, { redriveDlq: true }, budgetContext())).rejects.toThrow(
      /^redriveDlq: no DLQ is configured/,
    );
  });
});

// Guard against a fixture change silently shrinking what the tests prove.
it('fixtures span both layouts and all seven days', () => {
  expect(fixtures.filter((f) => f.layout === 'simple').length).toBeGreaterThan(2000);
  expect(fixtures.filter((f) => f.wholeDay).length).toBeGreaterThan(500);
  expect(new Set(fixtures.map((f) => Math.floor(f.time / DAY))).size).toBe(7);
});
