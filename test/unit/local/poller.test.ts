import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';
import { startPoller, type BatchOutcome } from '../../../local/poller.ts';

let aws: AwsLocal;
let n = 0;

beforeAll(async () => {
  aws = await startAwsLocal({ port: 0 });
});
afterAll(async () => {
  await aws?.stop();
});

function queue(attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  return aws.createQueue(`q${++n}-${Date.now()}`, attributes);
}

async function send(url: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    await aws.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b })),
      }),
    );
  }
}

async function depth(url: string): Promise<{ visible: number; inflight: number }> {
  const out = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inflight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('local SQS poller (Lambda event-source mapping semantics)', () => {
  it('deletes successes, keeps only the batchItemFailures, which come back after the visibility timeout', async () => {
    const q = await queue({ VisibilityTimeout: '1' });
    await send(q.url, ['a', 'b', 'c']);
    const seen: Array<{ body: string; receiveCount: string }> = [];
    const outcomes: BatchOutcome[] = [];
    // What happened, in order: the poller's SQS calls, its batch outcomes and the records handled.
    const events: string[] = [];
    const sqs = new SQSClient({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
    sqs.middlewareStack.add(
      (next, context) => (args) => {
        events.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    const poller = startPoller({
      sqs,
      queueUrl: q.url,
      batchSize: 10,
      batchingWindowMs: 200,
      onBatch: (o) => {
        outcomes.push(o);
        events.push('outcome');
      },
      handler: async (event: SQSEvent) => {
        for (const r of event.Records) {
          seen.push({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount });
          events.push(`${r.body}#${r.attributes.ApproximateReceiveCount}`);
        }
        const failed = event.Records.filter((r) => r.body === 'b' && r.attributes.ApproximateReceiveCount === '1');
        return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    try {
      await until(() => seen.length === 4);
      await until(async () => (await depth(q.url)).visible + (await depth(q.url)).inflight === 0);
    } finally {
      await poller.stop();
      sqs.destroy();
    }
    expect(outcomes[0]).toMatchObject({ received: 3, deleted: 2, failed: 1, threw: false });
    const retry = seen[3]!;
    expect(retry.body).toBe('b');
    expect(retry.receiveCount).toBe('2');
    // Redelivered by the queue's visibility timeout: the poller never shortens it (no
    // ChangeMessageVisibility), and the retry comes after the first batch's outcome.
    const beforeRetry = events.slice(0, events.indexOf('b#2'));
    expect(beforeRetry).toContain('outcome');
    expect(beforeRetry.filter((e) => e.startsWith('ChangeMessageVisibility'))).toEqual([]);
    expect(seen.filter((s) => s.body !== 'b').map((s) => s.receiveCount)).toEqual(['1', '1']);
    expect(poller.stats).toMatchObject({ invocations: 2, received: 4, deleted: 3, failed: 1 });
  });

  it('deletes nothing when the handler throws; the whole batch is redelivered', async () => {
    const q = await queue({ VisibilityTimeout: '1' });
    await send(q.url, ['x', 'y']);
    let calls = 0;
    const errors: unknown[] = [];
    const bodies: string[][] = [];
    const poller = startPoller({
      sqs: aws.sqs,
      queueUrl: q.url,
      batchingWindowMs: 200,
      onError: (e) => errors.push(e),
      handler: async (event) => {
        bodies.push(event.Records.map((r) => r.body).sort());
        if (++calls === 1) throw new Error('warehouse unavailable');
        return { batchItemFailures: [] };
      },
    });
    try {
      await until(() => calls >= 2 && poller.stats.deleted === 2);
    } finally {
      await poller.stop();
    }
    expect(bodies).toEqual([
      ['x', 'y'],
      ['x', 'y'],
    ]);
    expect((errors[0] as Error).message).toBe('warehouse unavailable');
    expect(await depth(q.url)).toEqual({ visible: 0, inflight: 0 });
  });

  it('a message failing maxReceiveCount times is redriven to the DLQ by the queue policy', async () => {
    const dlq = await queue();
    const q = await queue({
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    await send(q.url, ['poison', 'fine']);
    const attempts: Record<string, number> = {};
    const poller = startPoller({
      sqs: aws.sqs,
      queueUrl: q.url,
      batchingWindowMs: 100,
      handler: async (event) => {
        for (const r of event.Records) attempts[r.body] = (attempts[r.body] ?? 0) + 1;
        return {
          batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
    });
    try {
      await until(async () => (await depth(dlq.url)).visible === 1, 15_000);
    } finally {
      await poller.stop();
    }
    expect(attempts).toEqual({ poison: 2, fine: 1 });
    const moved = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 10 }));
    expect(moved.Messages?.map((m) => m.Body)).toEqual(['poison']);
    expect(await depth(q.url)).toEqual({ visible: 0, inflight: 0 });
  });

  it('honours batch size, and gathers batches larger than one receive within the batching window', async () => {
    const q = await queue();
    await send(
      q.url,
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    const small: number[] = [];
    const p1 = startPoller({
      sqs: aws.sqs,
      queueUrl: q.url,
      batchSize: 4,
      handler: async (e) => {
        small.push(e.Records.length);
      },
    });
    try {
      await until(() => small.reduce((a, b) => a + b, 0) === 25);
    } finally {
      await p1.stop();
    }
    expect(Math.max(...small)).toBeLessThanOrEqual(4);

    await send(
      q.url,
      Array.from({ length: 25 }, (_, i) => `n${i}`),
    );
    const big: number[] = [];
    const p2 = startPoller({
      sqs: aws.sqs,
      queueUrl: q.url,
      batchSize: 25,
      batchingWindowMs: 2000,
      handler: async (e) => {
        big.push(e.Records.length);
      },
    });
    try {
      await until(() => big.reduce((a, b) => a + b, 0) === 25);
    } finally {
      await p2.stop();
    }
    // Receives return at most 10, yet Lambda-style gathering delivers one batch of 25.
    expect(big).toEqual([25]);
  });
  it('runs `concurrency` batches at once: a second batch starts while the first is still being handled', async () => {
    const q = await queue();
    await send(q.url, ['a', 'b']);
    // The first batch holds until a second one has started; with one batch at a time it never would.
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    const seen: string[][] = [];
    const poller = startPoller({
      sqs: aws.sqs,
      queueUrl: q.url,
      batchSize: 1,
      concurrency: 2,
      handler: async (e) => {
        seen.push(e.Records.map((r) => r.body));
        if (seen.length === 1) await firstHeld;
        else releaseFirst();
      },
    });
    try {
      await until(() => poller.stats.deleted === 2, 15_000);
    } finally {
      releaseFirst();
      await poller.stop();
    }
    expect(seen.flat().sort()).toEqual(['a', 'b']);
    expect(poller.stats.maxInFlight).toBe(2);
    expect(poller.stats.inFlight).toBe(0);
  });

  it('keeps a batch invisible while it is handled, so a batch longer than the visibility timeout is not handed to another worker', async () => {
    const q = await queue({ VisibilityTimeout: '3' });
    await send(q.url, ['long']);
    const receiveCounts: string[] = [];
    let finish: () => void = () => {};
    const held = new Promise<void>((r) => (finish = r));
    const poller = startPoller({
      sqs: aws.sqs,
      queueUrl: q.url,
      batchSize: 1,
      concurrency: 2,
      handler: async (e) => {
        receiveCounts.push(...e.Records.map((r) => r.attributes.ApproximateReceiveCount));
        await held;
      },
    });
    try {
      // Three visibility timeouts pass while the batch is held; the second worker keeps polling.
      await new Promise((r) => setTimeout(r, 9_000));
      expect(await depth(q.url)).toEqual({ visible: 0, inflight: 1 });
      finish();
      await until(() => poller.stats.deleted === 1);
    } finally {
      finish();
      await poller.stop();
    }
    expect(receiveCounts).toEqual(['1']);
    expect(poller.stats.invocations).toBe(1);
    expect(await depth(q.url)).toEqual({ visible: 0, inflight: 0 });
  }, 30_000);
});
