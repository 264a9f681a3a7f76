/**
 * The last stage of a batch: what happened to each planned object → the SQS partial batch response
 * and the batch summary (logged, published as metrics). The other stages report here; nothing
 * else counts or decides which messages fail.
 *
 * Every message ends in exactly one of: acknowledged (its objects were loaded, found already
 * loaded, or deliberately skipped) or listed in `batchItemFailures` (SQS redelivers it; after
 * maxReceiveCount it goes to the DLQ). An object with no recorded outcome (a bug above us threw
 * first) fails its messages: never acknowledged unseen.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse } from 'aws-lambda';
import type { LoadMode } from '../../shared/config.ts';
import { type ClaimResult, type ObjectCounts, overwrittenError } from '../../shared/snowflake/loader.ts';
import type { LoadMethod, SinkStats } from '../../shared/snowflake/sink.ts';
import { type BatchSummary, emptySummary, type SkipReason } from './observability.ts';
import type { BatchPlan, PlannedObject } from './plan.ts';
import type { OpenedLines } from './read-object.ts';

type Status = 'loaded' | SkipReason | 'failed';

export interface BatchResult {
  response: SQSBatchResponse;
  summary: BatchSummary;
}

/** One line for a log: the error's name, code and message. */
export function errorText(err: unknown): string {
  const e = err as { name?: string; code?: string | number; message?: string };
  return [e?.name, e?.code, e?.message ?? String(err)].filter((x) => x !== undefined && x !== '').join(': ');
}

const where = (p: PlannedObject) => ({ messageIds: p.messageIds, bucket: p.target.bucket, key: p.target.key });

export class BatchOutcomes {
  readonly summary: BatchSummary;
  private readonly failedMessages = new Set<string>();
  private readonly status = new Map<string, Status>();
  private readonly counts = new Map<string, ObjectCounts>();

  constructor(
    messages: number,
    private readonly logger: Logger,
  ) {
    this.summary = emptySummary(messages);
  }

  /** Records what the plan says about records without an object to load. */
  planned(plan: BatchPlan): void {
    for (const note of plan.notes) {
      if (note.kind === 'unreadable') {
        this.logger.error(
          'Unreadable message: not an S3 object-created event; reporting it failed so it reaches the DLQ',
          { messageId: note.messageId, reason: note.reason, body: note.body },
        );
        this.failedMessages.add(note.messageId);
      } else if (note.kind === 'test') {
        this.logger.info('s3:TestEvent acknowledged', { messageId: note.messageId });
      } else {
        const { messageId, bucket, key } = note;
        this.logger.warn('Object outside LOG_BUCKETS/LOG_PREFIXES skipped', { messageId, bucket, key });
        this.summary.skipped['not-allowed']++;
      }
    }
  }

  /** Whether no outcome is recorded for the object yet. */
  undecided(p: PlannedObject): boolean {
    return !this.status.has(p.id);
  }

  failed(p: PlannedObject, err: unknown, what: string): void {
    this.status.set(p.id, 'failed');
    this.summary.objectsFailed++;
    this.logger.error(`${what} failed; the message will be retried`, { ...where(p), error: errorText(err) });
    this.logger.debug('stack', { stack: (err as Error)?.stack });
  }

  /** Every object fails without a log line each (the caller logged the one cause). */
  allFailed(objects: readonly PlannedObject[]): void {
    for (const p of objects) this.status.set(p.id, 'failed');
    this.summary.objectsFailed += objects.length;
  }

  /** A failure because the key holds other bytes than the version loaded (counted apart). */
  overwritten(p: PlannedObject, err: unknown, what: string): void {
    this.summary.objectsOverwritten++;
    this.failed(p, err, what);
  }

  skipped(p: PlannedObject, reason: SkipReason, message: string): void {
    this.status.set(p.id, reason);
    this.summary.skipped[reason]++;
    (reason === 'duplicate' ? this.logger.info : this.logger.warn).call(this.logger, message, { ...where(p), reason });
  }

  /** An object that could not be opened: deleted, or changed since its event (acknowledged either way). */
  notOpened(p: PlannedObject, opened: Exclude<OpenedLines, { kind: 'ok' }>): void {
    if (opened.kind === 'missing') this.skipped(p, 'missing', 'Object no longer exists; skipped');
    else
      this.skipped(p, 'changed', `Object changed since the event (${opened.message}); skipped, its own event loads it`);
  }

  loaded(p: PlannedObject, counts: ObjectCounts, how: { mode: LoadMode; method: LoadMethod }): void {
    const s = this.summary;
    this.status.set(p.id, 'loaded');
    this.counts.set(p.id, counts);
    s.objectsLoaded++;
    s.rows += counts.rows;
    s.rejects += counts.rejects;
    s.bytes += counts.bytes;
    const { lines, rows, rejects, bytes } = counts;
    this.logger.info('Object loaded', { ...where(p), lines, rows, rejects, bytes, ...how, force: p.target.force });
  }

  /** A sink's answer for one object: loaded, another delivery won, or the key holds a newer version (never acknowledged). */
  claimed(p: PlannedObject, result: ClaimResult, counts: ObjectCounts, how: { mode: LoadMode; method: LoadMethod }) {
    if (result === 'loaded') return this.loaded(p, counts, how);
    if (result === 'overwritten')
      return this.overwritten(p, overwrittenError(p.target), 'Loading an overwritten object');
    this.summary.claimsLost++;
    this.skipped(p, 'duplicate', 'Object already loaded (claimed by another delivery); acknowledged');
  }

  sinkStats(stats: SinkStats): void {
    this.summary.roundTrips += stats.roundTrips;
    this.summary.transactions += stats.transactions;
    this.summary.filesStaged += stats.filesStaged;
  }

  /** Delivery lag from the newest loaded request; then the response: undecided or failed objects fail their messages. */
  finish(objects: readonly PlannedObject[], started: number, now: () => number): BatchResult {
    let newest: string | undefined;
    for (const c of this.counts.values())
      if (c.newestRequest && (!newest || c.newestRequest > newest)) newest = c.newestRequest;
    if (newest) this.summary.deliveryLagSeconds = Math.max(0, (now() - Date.parse(newest)) / 1000);
    for (const p of objects) {
      const status = this.status.get(p.id);
      if (status === 'failed' || status === undefined) for (const m of p.messageIds) this.failedMessages.add(m);
    }
    this.summary.failedMessages = this.failedMessages.size;
    this.summary.durationMs = now() - started;
    const batchItemFailures = [...this.failedMessages].map((itemIdentifier) => ({ itemIdentifier }));
    return { response: { batchItemFailures }, summary: this.summary };
  }
}
