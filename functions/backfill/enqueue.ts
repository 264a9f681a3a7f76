/**
 * Stage 4, enqueue: selected objects go to the ingest queue as S3 event messages, in groups that
 * end after 10 messages (one SendMessageBatch). A group is also the unit of the time check and of
 * the cursor, so an invocation stops only between groups.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import type { ListedObject } from '../../shared/s3/listing.ts';
import { buildEventMessage, dedupKey, type ReplayMarker } from './messages.ts';
import type { Entry } from './select.ts';

/** SendMessageBatch's limit. */
const BATCH = 10;
const ATTEMPTS = 3;

/**
 * The group starting at `start`: entries up to the 10th to send, and no more selected (`send` or
 * `loaded`) entries than `room` (what maxObjects leaves). `truncated` when `room` ended it.
 */
export function takeGroup(entries: Entry[], start: number, room: number): { group: Entry[]; truncated: boolean } {
  const group: Entry[] = [];
  let sends = 0;
  let selected = 0;
  for (let i = start; i < entries.length && sends < BATCH; i++) {
    const e = entries[i]!;
    const selects = e.kind === 'send' || e.kind === 'loaded';
    if (selects && selected >= room) return { group, truncated: true };
    group.push(e);
    if (selects) selected++;
    if (e.kind === 'send') sends++;
  }
  return { group, truncated: false };
}

export interface Destination {
  queueUrl: string;
  region: string;
}

/**
 * The batch entries for objects of `bucket`: S3 event messages with the replay marker, and a
 * deterministic dedup key (a FIFO queue's deduplication id; an attribute on a standard queue).
 */
export function batchEntries(
  objects: ListedObject[],
  bucket: string,
  replay: ReplayMarker,
  to: Destination,
): SendMessageBatchRequestEntry[] {
  return objects.map((object, n) => {
    const key = dedupKey(replay.id, bucket, object, replay.force);
    const entry: SendMessageBatchRequestEntry = {
      Id: `m${n}`,
      MessageBody: JSON.stringify(buildEventMessage(bucket, object, { region: to.region, replay })),
      MessageAttributes: { backfillDedupKey: { DataType: 'String', StringValue: key } },
    };
    if (to.queueUrl.endsWith('.fifo')) {
      entry.MessageDeduplicationId = key;
      entry.MessageGroupId = bucket;
    }
    return entry;
  });
}

/** The slice of the SQS client sending needs. */
export interface BatchSender {
  send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput>;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends one batch. SendMessageBatch can accept some entries and refuse others; the refused ones
 * are sent again, up to three attempts in all, then it fails naming how many and why.
 */
export async function sendBatch(
  sqs: BatchSender,
  queueUrl: string,
  entries: SendMessageBatchRequestEntry[],
  wait: (ms: number) => Promise<void> = pause,
): Promise<void> {
  let pending = entries;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
    const failed = new Set((out.Failed ?? []).map((f) => f.Id));
    if (failed.size === 0) return;
    if (attempt >= ATTEMPTS) {
      const first = out.Failed?.[0];
      throw new Error(
        `SendMessageBatch failed for ${failed.size} message(s) after ${attempt} attempts: ${first?.Code ?? ''} ${first?.Message ?? ''}`,
      );
    }
    pending = pending.filter((e) => failed.has(e.Id));
    await wait(100 * attempt);
  }
}
