import type { SendMessageBatchCommand, SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { batchEntries, sendBatch, takeGroup } from '../../../functions/backfill/enqueue.ts';
import { dedupKey } from '../../../functions/backfill/messages.ts';
import type { Entry, EntryKind } from '../../../functions/backfill/select.ts';
import { parseMessageBody } from '../../../shared/s3/events.ts';
import type { ListedObject } from '../../../shared/s3/listing.ts';

const object = (n: number): ListedObject => ({
  key: `logs/2026-11-01-10-00-00-${String(n).padStart(4, '0')}`,
  size: n,
  etag: `etag${n}`,
  lastModified: new Date(Date.UTC(2026, 10, 1, 10, 0, n)),
});
const entries = (kinds: EntryKind[]): Entry[] => kinds.map((kind, n) => ({ object: object(n), kind }));

describe('enqueue stage: groups', () => {
  it('ends a group after its 10th message; skipped entries ride along without counting', () => {
    const page = entries([
      'ignored',
      ...Array<EntryKind>(4).fill('send'),
      'loaded',
      'outside',
      ...Array<EntryKind>(6).fill('send'),
      'ignored',
    ]);
    const first = takeGroup(page, 0, Infinity);
    expect(first.truncated).toBe(false);
    expect(first.group).toEqual(page.slice(0, 13));
    expect(takeGroup(page, 13, Infinity)).toEqual({ group: page.slice(13), truncated: false });
  });

  it('stops at the room maxObjects leaves, counting loaded objects as selected', () => {
    const page = entries(['send', 'loaded', 'ignored', 'send', 'send']);
    expect(takeGroup(page, 0, 2)).toEqual({ group: page.slice(0, 3), truncated: true });
    expect(takeGroup(page, 0, 0)).toEqual({ group: [], truncated: true });
    // Room for everything that is left is not a truncation.
    expect(takeGroup(page, 0, 4)).toEqual({ group: page, truncated: false });
  });
});

describe('enqueue stage: messages', () => {
  const replay = { id: 'backfill-1', force: true };

  it('sends S3 event messages with the replay marker and a dedup key attribute on a standard queue', () => {
    const [entry, ...rest] = batchEntries([object(1), object(2)], 'b', replay, {
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/ingest',
      region: 'eu-west-1',
    });
    expect(rest.map((e) => e.Id)).toEqual(['m1']);
    expect(entry!.Id).toBe('m0');
    expect(parseMessageBody(entry!.MessageBody!)).toMatchObject({
      kind: 'objects',
      objects: [{ bucket: 'b', key: object(1).key, etag: 'etag1', force: true, replayId: 'backfill-1' }],
    });
    expect(entry!.MessageAttributes?.backfillDedupKey?.StringValue).toBe(dedupKey('backfill-1', 'b', object(1), true));
    expect(entry!.MessageDeduplicationId).toBeUndefined();
    expect(entry!.MessageGroupId).toBeUndefined();
  });

  it('on a FIFO queue also uses the dedup key as deduplication id, grouped by bucket', () => {
    const [entry] = batchEntries([object(1)], 'b', replay, {
      queueUrl: 'https://q/1/ingest.fifo',
      region: 'eu-west-1',
    });
    expect(entry!.MessageDeduplicationId).toBe(dedupKey('backfill-1', 'b', object(1), true));
    expect(entry!.MessageGroupId).toBe('b');
  });
});

/** An SQS stand-in that refuses the entries `refuse` names on each call, in order. */
function refusingQueue(refuse: string[][]) {
  const calls: string[][] = [];
  return {
    calls,
    async send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput> {
      const ids = (command.input.Entries ?? []).map((e) => e.Id!);
      calls.push(ids);
      const refused = refuse[calls.length - 1] ?? [];
      return {
        $metadata: {},
        Successful: ids
          .filter((id) => !refused.includes(id))
          .map((Id) => ({ Id, MessageId: Id, MD5OfMessageBody: '' })),
        Failed: refused.map((Id) => ({ Id, SenderFault: false, Code: 'InternalError', Message: 'try again' })),
      };
    },
  };
}

describe('enqueue stage: sending', () => {
  const batch = batchEntries(
    [object(1), object(2), object(3)],
    'b',
    { id: 'x', force: false },
    {
      queueUrl: 'https://q/1/ingest',
      region: 'eu-west-1',
    },
  );

  it('sends only the refused entries again, waiting a little longer each time', async () => {
    const sqs = refusingQueue([['m0', 'm2'], ['m2']]);
    const waits: number[] = [];
    await sendBatch(sqs, 'https://q/1/ingest', batch, async (ms) => {
      waits.push(ms);
    });
    expect(sqs.calls).toEqual([['m0', 'm1', 'm2'], ['m0', 'm2'], ['m2']]);
    expect(waits).toEqual([100, 200]);
  });

  it('fails after three attempts, naming how many were refused and why', async () => {
    const sqs = refusingQueue([['m1'], ['m1'], ['m1'], ['m1']]);
    await expect(sendBatch(sqs, 'https://q/1/ingest', batch, async () => {})).rejects.toThrow(
      'SendMessageBatch failed for 1 message(s) after 3 attempts: InternalError try again',
    );
    expect(sqs.calls).toHaveLength(3);
  });
});
