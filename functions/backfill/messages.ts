/**
 * The queue message a replay sends: the same S3 event notification JSON S3 itself sends for an
 * ObjectCreated:Put, plus the `replay` marker the ingest event parser understands. The ingest path
 * cannot tell a replayed object from a fresh one except by that marker, so replay reuses all of
 * its loading, ledger and exactly-once logic.
 */
import { createHash } from 'node:crypto';
import { objectCreatedNotification } from '../../shared/s3/events.ts';
import type { ListedObject } from '../../shared/s3/listing.ts';

export interface ReplayMarker {
  force: boolean;
  id: string;
}

/**
 * A sequencer for a listed object. Real sequencers order events on one key; listings don't carry
 * them, so this one is derived from LastModified (hex milliseconds), which keeps that order.
 */
export function sequencerFor(lastModified: Date): string {
  return lastModified.getTime().toString(16).toUpperCase().padStart(16, '0');
}

export function buildEventMessage(
  bucket: string,
  object: ListedObject,
  opts: { region: string; replay: ReplayMarker },
): ReturnType<typeof objectCreatedNotification> {
  const { key, size, etag, lastModified } = object;
  return objectCreatedNotification(
    [{ bucket, key, size, etag, eventTime: lastModified.toISOString(), sequencer: sequencerFor(lastModified) }],
    { region: opts.region, replay: opts.replay, configurationId: 's3-access-logs-backfill' },
  );
}

/**
 * A deterministic key per (backfill, object version, force): a retried invocation produces the
 * same key, which a FIFO queue uses to drop the duplicate and which travels as a message attribute
 * on a standard queue (where the ingest ledger is what makes the load exactly-once).
 */
export function dedupKey(replayId: string, bucket: string, object: ListedObject, force: boolean): string {
  return createHash('sha256')
    .update(`${replayId}\n${bucket}\n${object.key}\n${object.etag}\n${force ? 1 : 0}`)
    .digest('hex');
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
