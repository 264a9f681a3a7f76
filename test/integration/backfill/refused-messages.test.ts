/**
 * Messages the ingest queue refuses, per entry, inside a successful SendMessageBatch call: real
 * SQS clients against fauxqs, which answers them in `Failed` exactly as SQS does.
 * - backfill: an entry refused once (a transient fault, injected by an SDK middleware that spoils
 *   one entry's copy on the first call) is sent again, so no object is silently left out;
 * - DLQ redrive: a message the ingest queue refuses (bigger than its MaximumMessageSize) stays in
 *   the DLQ; only the accepted ones are deleted from it.
 */
import {
  CreateQueueCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill, type BackfillSummary } from '../../../functions/backfill/core.ts';
import type { RedriveSummary } from '../../../functions/backfill/redrive.ts';
import { awsLocalClientConfig, startAwsLocal, type AwsLocal } from '../../../local/aws.ts';
import { parseMessageBody } from '../../../shared/s3/events.ts';
import { budgetContext, collectingDeps, makeFixtures, putAll, quietLogger, setLedger, settings } from './fixtures.ts';

const BUCKET = 'log-bucket';
let aws: AwsLocal;
let queueSeq = 0;

async function newQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const out = await aws.sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-${++queueSeq}`, Attributes: attributes }),
  );
  return out.QueueUrl!;
}

beforeAll(async () => {
  aws = await startAwsLocal();
});
afterAll(async () => {
  await aws?.stop();
});

/**
 * An SQS client whose first `n` SendMessageBatch calls carry one entry spoiled with a character
 * SQS refuses (on a copy: the caller's entry is untouched); records every call's entry ids.
 */
function flakySqs(n: number): { sqs: SQSClient; calls: string[][] } {
  const sqs = new SQSClient(awsLocalClientConfig(aws));
  const calls: string[][] = [];
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const input = args.input as SendMessageBatchCommandInput & {
        Entries: Array<{ Id: string; MessageBody: string }>;
      };
      calls.push(input.Entries.map((e) => e.Id!));
      if (calls.length > n) return next(args);
      const [first, ...rest] = input.Entries;
      const spoiled = { ...first!, MessageBody: `${first!.MessageBody}\u0001` };
      return next({ ...args, input: { ...input, Entries: [spoiled, ...rest] } });
    },
    { step: 'initialize', name: 'spoilOneEntry' },
  );
  return { sqs, calls };
}

describe('backfill when the ingest queue refuses some entries of a batch', () => {
  const fixtures = makeFixtures('logs/', Date.UTC(2026, 10, 1), 1, 12, 11);
  beforeAll(async () => {
    await putAll(
      aws,
      BUCKET,
      fixtures.map((f) => ({ key: f.key })),
    );
  });

  it('sends the refused entries again, so every selected object reaches the queue once', async () => {
    const queueUrl = await newQueue('ingest');
    const { sqs, calls } = flakySqs(1);
    const deps = collectingDeps({
      config: settings({ queueUrl }),
      s3: aws.s3,
      sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    const s = (await runBackfill(deps, { force: true }, budgetContext())) as BackfillSummary;
    expect(s).toMatchObject({ selected: 12, enqueued: 12 });
    // Ten entries, the one refused entry again, then the last two.
    expect(calls.map((c) => c.length)).toEqual([10, 1, 2]);
    expect(calls[1]).toEqual([calls[0]![0]]);
    const ready = (await aws.inspectQueue(queueUrl))!.messages.ready;
    const keys = ready.map((m) => {
      const parsed = parseMessageBody(m.body);
      if (parsed.kind !== 'objects') throw new Error(`unexpected message ${m.body}`);
      return parsed.objects[0]!.key;
    });
    expect(keys.sort()).toEqual(fixtures.map((f) => f.key).sort());
  });

  it('fails the invocation, naming the count and SQS code, when an entry is still refused after three attempts', async () => {
    const queueUrl = await newQueue('ingest');
    const { sqs } = flakySqs(Infinity);
    const deps = collectingDeps({
      config: settings({ queueUrl }),
      s3: aws.s3,
      sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    await expect(runBackfill(deps, { force: true }, budgetContext())).rejects.toThrow(
      /SendMessageBatch failed for 1 message\(s\) after 3 attempts: InvalidMessageContents/,
    );
  });
});

describe('DLQ redrive when the ingest queue refuses a message', () => {
  it('moves the accepted messages, leaves the refused one in the DLQ and reports it failed', async () => {
    const queueUrl = await newQueue('ingest', { MaximumMessageSize: '1024' });
    const dlqUrl = await newQueue('ingest-dlq');
    const small = ['{"Records":[],"n":1}', '{"Records":[],"n":2}'];
    const big = JSON.stringify({ Records: [], pad: 'x'.repeat(2000) });
    await aws.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: [...small, big].map((b, i) => ({ Id: `e${i}`, MessageBody: b })),
      }),
    );
    const deps = collectingDeps({
      config: settings({ queueUrl, dlqUrl }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    const s = (await runBackfill(deps, { redriveDlq: true }, budgetContext())) as RedriveSummary;
    expect(s).toMatchObject({ moved: 2, failed: 1, done: true });
    expect((await aws.inspectQueue(queueUrl))!.messages.ready.map((m) => m.body).sort()).toEqual([...small].sort());
    const dlq = (await aws.inspectQueue(dlqUrl))!.messages;
    // Still in the DLQ (in flight until its visibility timeout ends), not deleted.
    expect([...dlq.ready, ...dlq.inflight.map((f) => f.message)].map((m) => m.body)).toEqual([big]);
  });
});
