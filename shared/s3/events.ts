/**
 * SQS message body → the log objects it announces.
 *
 * The queue may receive, per message body:
 * - an S3 event notification (`Records[]`, `eventVersion` 2.x) — keys are URL-encoded the way
 *   HTML forms are (`+` is a space, `%2B` a plus), so they are decoded here;
 * - the same notification wrapped in an SNS envelope (`Type: "Notification"`, `Message` = JSON);
 * - an EventBridge "Object Created" event (`source: "aws.s3"`). Its key is taken as-is: EventBridge
 *   does not form-encode keys (its samples carry `:` literally, where notifications send `%3A`);
 * - `s3:TestEvent`, which S3 sends once when a notification is configured: acknowledged, nothing to load.
 * Anything else is `invalid`: the handler logs it with the message ID and reports it failed, so
 * after the queue's retries it lands in the DLQ where an operator can look at it.
 *
 * A backfill replay (functions/backfill) sends the notification shape with an extra top-level
 * `"replay": { "force": boolean, "id": string }`; `force` asks the loader to replace an already
 * loaded object.
 */

import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { S3EventNotificationEventBridgeSchema, S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { SnsSqsNotificationSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import { z } from 'zod';

export interface ObjectRef {
  bucket: string;
  /** Decoded: exactly the key to pass to GetObject. */
  key: string;
  size?: number;
  /** Without quotes, as events carry it. */
  etag?: string;
  sequencer?: string;
  eventTime?: string;
  force: boolean;
  /** Backfill id when the message is a replay. */
  replayId?: string;
}

export type ParsedBody =
  | { kind: 'objects'; objects: ObjectRef[]; ignored: number }
  | { kind: 'test' }
  | { kind: 'invalid'; reason: string };

/** Decodes an S3 notification key: `+` → space first, then percent-escapes (so `%2B` → `+`). */
export function decodeS3Key(encoded: string): string {
  const spaced = encoded.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A malformed escape cannot come from S3; decode what can be decoded rather than lose the key.
    return spaced.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
}

type Json = Record<string, unknown>;

// Powertools' schemas model every field AWS sends. The loader reads a few of them, and the
// notifications that backfill replays and the local bridge send (and messages already waiting in a
// queue or DLQ) carry only those: so the schemas below take the fields the loader reads from
// Powertools' and do not require the rest (identity, request ids, ARNs, ...), which nothing reads.
const PtRecord = S3Schema.shape.Records.element;
const PtEntity = PtRecord.shape.s3;
const PtDetail = S3EventNotificationEventBridgeSchema.shape.detail;

/** Backfill's marker: `force` replaces an already loaded object. */
const Replay = z.object({ force: z.boolean().optional(), id: z.string().optional() }).optional();

/**
 * A field the loader can do without (size, ETag, sequencer, event time): a malformed value is
 * dropped, not a reason to fail the message, so that a third-party producer's oddity never sends
 * a log object to the DLQ.
 */
const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

// Every record is checked for its version and name; only creations must carry a readable object
// (a removal or restore record routed here is counted as ignored, whatever else it holds).
const RecordHead = z.looseObject({
  eventVersion: PtRecord.shape.eventVersion.regex(/^2\.\d+$/, {
    error: (i) => `is "${String(i.input)}", expected 2.x`,
  }),
  eventName: lenient(PtRecord.shape.eventName),
});

const CreatedRecord = z.object({
  eventTime: lenient(PtRecord.shape.eventTime),
  s3: z.object({
    bucket: z.object({ name: PtEntity.shape.bucket.shape.name.min(1) }),
    object: z.object({
      key: PtEntity.shape.object.shape.key.min(1),
      size: lenient(PtDetail.shape.object.shape.size), // EventBridge's: not negative
      eTag: lenient(PtEntity.shape.object.shape.eTag),
      // As EventBridge spells it; some producers of the notification shape do too.
      etag: lenient(PtEntity.shape.object.shape.eTag),
      sequencer: lenient(PtEntity.shape.object.shape.sequencer),
    }),
  }),
});

const Notification = z.object({ Records: z.array(RecordHead), replay: Replay });

const EventBridgeObjectCreated = S3EventNotificationEventBridgeSchema.pick({ source: true }).extend({
  'detail-type': z.literal('Object Created'),
  time: lenient(S3EventNotificationEventBridgeSchema.shape.time),
  detail: z.object({
    bucket: z.object({ name: PtDetail.shape.bucket.shape.name.min(1) }),
    object: z.object({
      key: PtDetail.shape.object.shape.key.min(1),
      size: lenient(PtDetail.shape.object.shape.size),
      etag: lenient(PtDetail.shape.object.shape.etag),
      sequencer: lenient(PtDetail.shape.object.shape.sequencer),
    }),
  }),
  replay: Replay,
});

const JsonObject = z.record(z.string(), z.unknown());
const SnsNotification = SnsSqsNotificationSchema.pick({ Type: true }).extend({ Message: JSONStringified(JsonObject) });

/** Messages for zod's own issues, worded to follow the field's path ("Records[0].s3 is missing"). */
const says: z.core.$ZodErrorMap = (issue) => {
  const got = `got ${JSON.stringify(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is missing';
      return issue.expected === 'record' || issue.expected === 'object'
        ? 'must be a JSON object'
        : `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'number' ? `must be at least ${issue.minimum}, ${got}` : 'must not be empty';
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, ${got}`;
    case 'invalid_format':
      return `must be ${issue.format === 'datetime' ? 'an ISO 8601 time' : `in ${issue.format} format`}, ${got}`;
    default:
      return undefined;
  }
};

/** "Records[0].s3.bucket.name is missing; …": at most three issues, each named by its path (under `at`). */
function reasonOf(error: z.ZodError, at: PropertyKey[] = []): string {
  const reasons = error.issues.slice(0, 3).map((issue) => {
    const path = [...at, ...issue.path].map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    // JSONStringified's issue carries JSON.parse's wording; ours is the same for any bad JSON.
    const message = issue.message.startsWith('Invalid JSON') ? 'is not JSON' : issue.message;
    return `${path === '' ? 'the body' : path.slice(path.startsWith('.') ? 1 : 0)} ${message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return reasons.join('; ') + more;
}

const invalid = (reason: string): ParsedBody => ({ kind: 'invalid', reason });

function parsed<S extends z.ZodType>(schema: S, body: unknown, read: (data: z.infer<S>) => ParsedBody): ParsedBody {
  const result = schema.safeParse(body, { error: says });
  return result.success ? read(result.data) : invalid(reasonOf(result.error));
}

const unquote = (etag: string | undefined): string | undefined => etag?.replace(/^"|"$/g, '');

function objectRef(bucket: string, key: string, replay: z.infer<typeof Replay>, optional: Partial<ObjectRef>) {
  const ref: ObjectRef = { bucket, key, force: replay?.force === true };
  const fields: Partial<ObjectRef> = { ...optional, etag: unquote(optional.etag), replayId: replay?.id };
  // Fields an event does not carry stay absent rather than `undefined`-valued.
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (ref as unknown as Json)[k] = v;
  return ref;
}

function fromNotification({ Records, replay }: z.infer<typeof Notification>): ParsedBody {
  const objects: ObjectRef[] = [];
  let ignored = 0;
  for (const [i, record] of Records.entries()) {
    // Only creations carry a log object; a removal or restore notification routed here is not ours to load.
    if (!/^(s3:)?ObjectCreated:/.test(record.eventName ?? '')) {
      ignored++;
      continue;
    }
    const created = CreatedRecord.safeParse(record, { error: says });
    if (!created.success) return invalid(reasonOf(created.error, ['Records', i]));
    const { eventTime, s3 } = created.data;
    const { key, size, eTag, etag, sequencer } = s3.object;
    objects.push(
      objectRef(s3.bucket.name, decodeS3Key(key), replay, { size, etag: eTag ?? etag, sequencer, eventTime }),
    );
  }
  return { kind: 'objects', objects, ignored };
}

function fromEventBridge({ detail, time, replay }: z.infer<typeof EventBridgeObjectCreated>): ParsedBody {
  const { key, size, etag, sequencer } = detail.object;
  // EventBridge does not form-encode keys: taken as-is.
  const ref = objectRef(detail.bucket.name, key, replay, { size, etag, sequencer, eventTime: time });
  return { kind: 'objects', objects: [ref], ignored: 0 };
}

function parseValue(body: Json, depth: number): ParsedBody {
  if (body.Event === 's3:TestEvent') return { kind: 'test' };
  if (body.Type === 'Notification') {
    if (depth > 0) return invalid('nested SNS envelopes');
    const sns = SnsNotification.safeParse(body, { error: says });
    if (!sns.success) return invalid(`SNS ${reasonOf(sns.error)}`);
    const inner = parseValue(sns.data.Message, depth + 1);
    return inner.kind === 'invalid' ? invalid(`in the SNS Message, ${inner.reason}`) : inner;
  }
  if ('Records' in body) return parsed(Notification, body, fromNotification);
  if (body.source === 'aws.s3' && 'detail' in body) return parsed(EventBridgeObjectCreated, body, fromEventBridge);
  return invalid('not an S3 event notification, SNS notification or EventBridge S3 event');
}

/** Parses one SQS message body. Never throws: a body it cannot read is `{ kind: 'invalid', reason }`. */
export function parseMessageBody(body: string): ParsedBody {
  return parsed(JSONStringified(JsonObject), body, (value) => parseValue(value, 0));
}

/** An object to announce; the key decoded (it is encoded here the way S3 encodes keys in notifications). */
export type ObjectCreated = Omit<ObjectRef, 'force' | 'replayId'>;

/**
 * The S3 event notification (eventVersion 2.1, `ObjectCreated:Put`) that S3 sends for these
 * objects. The local notification bridge, backfill replays and the tests all send this one shape,
 * so the ingest path cannot tell them from S3 except by the optional `replay` marker.
 */
export function objectCreatedNotification(
  objects: ObjectCreated[],
  opts: { region?: string; replay?: { force: boolean; id: string }; configurationId?: string } = {},
): { Records: Json[]; replay?: { force: boolean; id: string } } {
  const notification: { Records: Json[]; replay?: { force: boolean; id: string } } = {
    Records: objects.map((o) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      ...(opts.region ? { awsRegion: opts.region } : {}),
      eventTime: o.eventTime ?? new Date().toISOString(),
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        ...(opts.configurationId ? { configurationId: opts.configurationId } : {}),
        bucket: { name: o.bucket, arn: `arn:aws:s3:::${o.bucket}` },
        object: {
          key: encodeS3Key(o.key),
          ...(o.size !== undefined ? { size: o.size } : {}),
          ...(o.etag !== undefined ? { eTag: o.etag.replace(/^"|"$/g, '') } : {}),
          ...(o.sequencer !== undefined ? { sequencer: o.sequencer } : {}),
        },
      },
    })),
  };
  if (opts.replay) notification.replay = opts.replay;
  return notification;
}

/**
 * The inverse of `decodeS3Key`, matching what S3 sends: application/x-www-form-urlencoded as
 * Java's URLEncoder does it (space → `+`, `+` → `%2B`, UTF-8 escapes; `!'()~` escaped too, `*`
 * not), except `/`, which S3 leaves as is.
 */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, '+')
    .replace(/%2F/gi, '/')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
