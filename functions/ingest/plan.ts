/**
 * Stage 1 of a batch, pure: SQS records → the distinct objects to load, each with the messages
 * that announced it, and notes on the records that announce nothing to load. No I/O, no logging:
 * outcomes.ts turns the notes into logs, counts and failed messages.
 *
 * The same object announced twice in a batch is loaded once (both messages share its outcome):
 * the newer event wins (its ETag is the one the key holds; the older one's would read as
 * "changed" and be skipped), and a replay's `force` survives a plain event for the same key.
 */
import { parseMessageBody, type ObjectRef } from '../../shared/s3/events.ts';
import { ledgerId, type LoadTarget } from '../../shared/snowflake/loader.ts';

/** One object to load, and every message whose outcome is its outcome. */
export interface PlannedObject {
  /** `ledgerId` of the target: unique within a plan. */
  id: string;
  target: LoadTarget;
  /** Stored size from the event, when it says: lets the memory budget stream it without a first read. */
  size?: number;
  messageIds: string[];
}

/** A record that announces nothing to load, in record order. */
export type PlanNote =
  /** Not an S3 object-created event: the message fails, so it reaches the DLQ. */
  | { kind: 'unreadable'; messageId: string; reason: string; body: string }
  /** s3:TestEvent: acknowledged. */
  | { kind: 'test'; messageId: string }
  /** An object outside LOG_BUCKETS/LOG_PREFIXES: skipped, acknowledged. */
  | { kind: 'not-allowed'; messageId: string; bucket: string; key: string };

export interface BatchPlan {
  objects: PlannedObject[];
  notes: PlanNote[];
}

export interface MessageRecord {
  messageId: string;
  body: string;
}

/** The part of an unreadable body kept in its log line. */
const BODY_EXCERPT_CHARS = 500;

/** Of two events for one key, the later one (S3 sequencers compare as hex after left-padding); `a` on a tie or without sequencers. */
export function later(a: ObjectRef, b: ObjectRef): ObjectRef {
  if (!a.sequencer || !b.sequencer) return a;
  const w = Math.max(a.sequencer.length, b.sequencer.length);
  return b.sequencer.padStart(w, '0') > a.sequencer.padStart(w, '0') ? b : a;
}

function toTarget(o: ObjectRef): LoadTarget {
  const t: LoadTarget = { bucket: o.bucket, key: o.key, force: o.force };
  if (o.etag) t.etag = o.etag;
  if (o.sequencer) t.sequencer = o.sequencer;
  if (o.replayId) t.replayId = o.replayId;
  return t;
}

/** Adds one announced object to the plan, merging it with an earlier announcement of the same key. */
function announce(pending: Map<string, PlannedObject>, refs: Map<string, ObjectRef>, o: ObjectRef, messageId: string) {
  const id = ledgerId(o);
  const seen = refs.get(id);
  const chosen = seen ? later(seen, o) : o;
  const force = (seen?.force ?? false) || o.force;
  refs.set(id, { ...chosen, force });
  const p = pending.get(id);
  if (p) {
    p.target = toTarget({ ...chosen, force });
    if (chosen.size !== undefined) p.size = chosen.size;
    if (!p.messageIds.includes(messageId)) p.messageIds.push(messageId);
  } else {
    const np: PlannedObject = { id, target: toTarget(chosen), messageIds: [messageId] };
    if (o.size !== undefined) np.size = o.size;
    pending.set(id, np);
  }
}

export function planBatch(
  records: readonly MessageRecord[],
  isAllowed: (bucket: string, key: string) => boolean,
): BatchPlan {
  const pending = new Map<string, PlannedObject>();
  const refs = new Map<string, ObjectRef>();
  const notes: PlanNote[] = [];
  for (const { messageId, body } of records) {
    const parsed = parseMessageBody(body);
    if (parsed.kind === 'invalid') {
      notes.push({ kind: 'unreadable', messageId, reason: parsed.reason, body: body.slice(0, BODY_EXCERPT_CHARS) });
      continue;
    }
    if (parsed.kind === 'test') {
      notes.push({ kind: 'test', messageId });
      continue;
    }
    for (const o of parsed.objects) {
      if (isAllowed(o.bucket, o.key)) announce(pending, refs, o, messageId);
      else notes.push({ kind: 'not-allowed', messageId, bucket: o.bucket, key: o.key });
    }
  }
  return { objects: [...pending.values()], notes };
}
