/**
 * One log object → its byte stream, read once, never buffered whole.
 *
 * `GetObject` carries `IfMatch` with the event's ETag, so we read exactly the version the
 * notification announced. The outcomes the loader must tell apart:
 * - `ok`: a stream (and its length, which decides whether the object fits the batch's memory budget);
 * - `missing` (NoSuchKey): deleted since, e.g. by a lifecycle rule. Nothing will ever be there to
 *   load, so the message is acknowledged: skipped with a warning and `ObjectsSkipped{reason=missing}`;
 * - `changed` (PreconditionFailed): the key now holds another version. S3 never rewrites an access
 *   log object, so this is someone overwriting the key. That write sent its own notification,
 *   which loads the current version; retrying this message could never succeed. Skipped with a
 *   warning and `ObjectsSkipped{reason=changed}`;
 * - any other error is thrown: the caller fails only that message, and SQS redelivers it.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';

export type OpenedObject =
  | { kind: 'ok'; body: Readable; contentLength?: number; etag?: string }
  | { kind: 'missing' }
  | { kind: 'changed'; message: string };

interface S3ErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function s3ErrorCode(err: unknown): string | undefined {
  const e = err as S3ErrorShape | undefined;
  return e?.Code ?? e?.name;
}

export async function openObject(
  s3: S3Client,
  ref: { bucket: string; key: string; etag?: string },
  signal?: AbortSignal,
): Promise<OpenedObject> {
  try {
    const res = await s3.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        ...(ref.etag ? { IfMatch: `"${ref.etag}"` } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    if (!res.Body) throw new Error(`GetObject s3://${ref.bucket}/${ref.key} returned no body`);
    const body = res.Body as Readable;
    // A large object's body waits unread while its claim may wait on a lock: a socket error in
    // that time must not be an unhandled 'error' event (a crash of the whole batch). Reading the
    // body later still rethrows the stream's error, so it fails only this object.
    body.on('error', () => {});
    const opened: OpenedObject = { kind: 'ok', body };
    if (res.ContentLength !== undefined) opened.contentLength = res.ContentLength;
    if (res.ETag !== undefined) opened.etag = res.ETag.replace(/^"|"$/g, '');
    return opened;
  } catch (err) {
    const code = s3ErrorCode(err);
    const status = (err as S3ErrorShape)?.$metadata?.httpStatusCode;
    if (code === 'NoSuchKey' || (status === 404 && code !== 'NoSuchBucket')) return { kind: 'missing' };
    if (code === 'PreconditionFailed' || status === 412)
      return { kind: 'changed', message: `the object no longer has ETag ${ref.etag}` };
    throw err;
  }
}
