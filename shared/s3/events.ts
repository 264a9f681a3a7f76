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
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const unquote = (etag: string | undefined): string | undefined => etag?.replace(/^"|"$/g, '');

function withOptional(ref: ObjectRef, fields: Partial<ObjectRef>): ObjectRef {
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (ref as unknown as Json)[k] = v;
  return ref;
}

function parseReplay(body: Json): { force: boolean; replayId?: string } | string {
  if (body.replay === undefined) return { force: false };
  if (!isObj(body.replay)) return 'the "replay" field must be an object';
  const force = body.replay.force;
  if (force !== undefined && typeof force !== 'boolean') return '"replay.force" must be true or false';
  const id = body.replay.id;
  if (id !== undefined && typeof id !== 'string') return '"replay.id" must be a string';
  return id === undefined ? { force: force === true } : { force: force === true, replayId: id };
}

function parseNotification(body: Json): ParsedBody {
  const records = body.Records;
  if (!Array.isArray(records)) return { kind: 'invalid', reason: '"Records" is not an array' };
  const replay = parseReplay(body);
  if (typeof replay === 'string') return { kind: 'invalid', reason: replay };
  const objects: ObjectRef[] = [];
  let ignored = 0;
  for (const [i, r] of records.entries()) {
    if (!isObj(r)) return { kind: 'invalid', reason: `Records[${i}] is not an object` };
    const version = str(r.eventVersion);
    if (!version || !/^2\.\d+$/.test(version))
      return { kind: 'invalid', reason: `Records[${i}].eventVersion is "${String(r.eventVersion)}", expected 2.x` };
    const name = str(r.eventName) ?? '';
    // Only creations carry a log object; a removal or restore notification routed here is not ours to load.
    if (!/^(s3:)?ObjectCreated:/.test(name)) {
      ignored++;
      continue;
    }
    const s3 = isObj(r.s3) ? r.s3 : undefined;
    const bucket = s3 && isObj(s3.bucket) ? str(s3.bucket.name) : undefined;
    const object = s3 && isObj(s3.object) ? s3.object : undefined;
    const key = object ? str(object.key) : undefined;
    if (!bucket || !object || !key)
      return { kind: 'invalid', reason: `Records[${i}] has no s3.bucket.name or s3.object.key` };
    objects.push(
      withOptional(
        { bucket, key: decodeS3Key(key), force: replay.force },
        {
          size: num(object.size),
          etag: unquote(str(object.eTag) ?? str(object.etag)),
          sequencer: str(object.sequencer),
          eventTime: str(r.eventTime),
          replayId: replay.replayId,
        },
      ),
    );
  }
  return { kind: 'objects', objects, ignored };
}

function parseEventBridge(body: Json): ParsedBody {
  if (body['detail-type'] !== 'Object Created')
    return {
      kind: 'invalid',
      reason: `EventBridge detail-type "${String(body['detail-type'])}" is not "Object Created"`,
    };
  const d = isObj(body.detail) ? body.detail : undefined;
  const bucket = d && isObj(d.bucket) ? str(d.bucket.name) : undefined;
  const object = d && isObj(d.object) ? d.object : undefined;
  const key = object ? str(object.key) : undefined;
  if (!bucket || !object || !key)
    return { kind: 'invalid', reason: 'EventBridge event has no detail.bucket.name or detail.object.key' };
  const replay = parseReplay(body);
  if (typeof replay === 'string') return { kind: 'invalid', reason: replay };
  return {
    kind: 'objects',
    ignored: 0,
    objects: [
      withOptional(
        { bucket, key, force: replay.force },
        {
          size: num(object.size),
          etag: unquote(str(object.etag)),
          sequencer: str(object.sequencer),
          eventTime: str(body.time),
          replayId: replay.replayId,
        },
      ),
    ],
  };
}

function parseValue(body: unknown, depth: number): ParsedBody {
  if (!isObj(body)) return { kind: 'invalid', reason: 'the body is not a JSON object' };
  if (body.Event === 's3:TestEvent') return { kind: 'test' };
  if (body.Type === 'Notification' && typeof body.Message === 'string') {
    if (depth > 0) return { kind: 'invalid', reason: 'nested SNS envelopes' };
    let inner: unknown;
    try {
      inner = JSON.parse(body.Message);
    } catch {
      return { kind: 'invalid', reason: 'the SNS Message is not JSON' };
    }
    return parseValue(inner, depth + 1);
  }
  if ('Records' in body) return parseNotification(body);
  if (body.source === 'aws.s3' && 'detail' in body) return parseEventBridge(body);
  return { kind: 'invalid', reason: 'not an S3 event notification, SNS notification or EventBridge S3 event' };
}

/** Parses one SQS message body. Never throws: a body it cannot read is `{ kind: 'invalid', reason }`. */
export function parseMessageBody(body: string): ParsedBody {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'the body is not JSON' };
  }
  return parseValue(value, 0);
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
