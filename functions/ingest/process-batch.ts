/**
 * One SQS batch → loaded objects → the batch response. Every message ends in exactly one of:
 * acknowledged (its objects were loaded, found already loaded, or deliberately skipped) or
 * listed in `batchItemFailures` (SQS redelivers it; after maxReceiveCount it goes to the DLQ).
 * Errors are caught per object, so one bad object fails only the messages that announced it.
 *
 * The load method is a sink (shared/snowflake/sink.ts); everything else here is shared by both.
 * Steps:
 * 1. Parse bodies (shared/s3/events); drop test events; skip objects outside LOG_BUCKETS/LOG_PREFIXES.
 *    The same object announced twice in a batch is loaded once (both messages share its outcome).
 * 2. Ask the sink which objects are already loaded (advisory: saves the S3 reads).
 * 3. If the sink takes buffered objects (`insert`): read the objects whose parsed lines fit the
 *    memory budget (estimated heap, charged line by line across concurrent reads), into bind arrays, and load them all at once (ONE transaction). If that fails,
 *    retry them one by one, so a poison object cannot keep the rest of the batch from loading.
 * 4. Stream every other object through the sink (`insert`: one transaction each; `pipe`: always).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Readable } from 'node:stream';
import { isAllowedObject, type IngestConfig } from '../../shared/config.ts';
import { parseMessageBody, type ObjectRef } from '../../shared/s3/events.ts';
import { openObject } from '../../shared/s3/objects.ts';
import type { Bind, ConnectionProvider } from '../../shared/snowflake/connection.ts';
import {
  ledgerId,
  overwrittenError,
  RowBuilder,
  type BufferedObject,
  type ClaimResult,
  type LoadTarget,
  type ObjectCounts,
} from '../../shared/snowflake/loader.ts';
import type { Sink } from '../../shared/snowflake/sink.ts';
import { lineCost, MemoryBudget } from './memory-budget.ts';
import { emptySummary, type BatchSummary, type SkipReason } from './observability.ts';
import { objectLines } from './read-object.ts';
import { createSink, type SinkContext } from './sinks.ts';

export { DEADLINE_MARGIN_MS, LOCK_TIMEOUT_SECONDS } from '../../shared/snowflake/insert-sink.ts';

export interface BatchDeps {
  config: IngestConfig;
  s3: S3Client;
  /** Snowflake connections: needed by the `insert` method (and by `pipe` for forced replays). */
  connections?: ConnectionProvider;
  logger: Logger;
  now?: () => number;
  /** Milliseconds until the Lambda times out (context.getRemainingTimeInMillis); absent = no limit. */
  remainingMs?: () => number;
  /** The sink for this batch; default: the one `config.loadMethod` names (tests inject fakes). */
  sink?: (context: SinkContext) => Sink;
}

type Status = 'loaded' | SkipReason | 'failed';

interface Pending {
  id: string;
  target: LoadTarget;
  size?: number;
  messageIds: string[];
  status?: Status;
  counts?: ObjectCounts;
}

/** S3 reads in flight at once while buffering a batch. */
const READ_CONCURRENCY = 4;

function errorText(err: unknown): string {
  const e = err as { name?: string; code?: string | number; message?: string };
  return [e?.name, e?.code, e?.message ?? String(err)].filter((x) => x !== undefined && x !== '').join(': ');
}

function toTarget(o: ObjectRef): LoadTarget {
  const t: LoadTarget = { bucket: o.bucket, key: o.key, force: o.force };
  if (o.etag) t.etag = o.etag;
  if (o.sequencer) t.sequencer = o.sequencer;
  if (o.replayId) t.replayId = o.replayId;
  return t;
}

/** Of two events for one key, the later one (S3 sequencers compare as hex after left-padding). */
function later(a: ObjectRef, b: ObjectRef): ObjectRef {
  if (!a.sequencer || !b.sequencer) return a;
  const w = Math.max(a.sequencer.length, b.sequencer.length);
  return b.sequencer.padStart(w, '0') > a.sequencer.padStart(w, '0') ? b : a;
}

/**
 * The body's bytes, counted. A body that ends before its Content-Length is an error of the
 * source (a connection cut without a socket error): it must fail the read, so the message is
 * retried, and never pass for a truncated gzip, which is recorded as a reject and acknowledged.
 */
async function* counted(
  body: Readable,
  counter: { bytes: number },
  contentLength?: number,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    counter.bytes += chunk.length;
    yield chunk;
  }
  if (contentLength !== undefined && counter.bytes < contentLength)
    throw new Error(
      `The S3 body ended after ${counter.bytes} of its ${contentLength} bytes; the message will be retried.`,
    );
}

/** Runs `work` on every item with at most `n` in flight. */
async function eachConcurrently<T>(items: T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(n, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  });
  await Promise.all(workers);
}

/** Step 1: message bodies → distinct objects to load, each with the messages that announced it. */
function collectObjects(
  event: SQSEvent,
  config: IngestConfig,
  logger: Logger,
  summary: BatchSummary,
  failedMessages: Set<string>,
): Pending[] {
  const pending = new Map<string, Pending>();
  const refs = new Map<string, ObjectRef>();
  for (const record of event.Records) {
    const messageId = record.messageId;
    const parsed = parseMessageBody(record.body);
    if (parsed.kind === 'invalid') {
      logger.error('Unreadable message: not an S3 object-created event; reporting it failed so it reaches the DLQ', {
        messageId,
        reason: parsed.reason,
        body: record.body.slice(0, 500),
      });
      failedMessages.add(messageId);
      continue;
    }
    if (parsed.kind === 'test') {
      logger.info('s3:TestEvent acknowledged', { messageId });
      continue;
    }
    for (const o of parsed.objects) {
      if (!isAllowedObject(config, o.bucket, o.key)) {
        logger.warn('Object outside LOG_BUCKETS/LOG_PREFIXES skipped', { messageId, bucket: o.bucket, key: o.key });
        summary.skipped['not-allowed']++;
        continue;
      }
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
        const np: Pending = { id, target: toTarget(chosen), messageIds: [messageId] };
        if (o.size !== undefined) np.size = o.size;
        pending.set(id, np);
      }
    }
  }
  return [...pending.values()];
}

export async function processBatch(
  event: SQSEvent,
  deps: BatchDeps,
): Promise<{ response: SQSBatchResponse; summary: BatchSummary }> {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const started = now();
  const summary = emptySummary(event.Records.length);
  const failedMessages = new Set<string>();
  const objects = collectObjects(event, config, logger, summary, failedMessages);

  const finish = () => {
    for (const p of objects) {
      if (p.status === 'failed' || p.status === undefined) {
        // undefined: something above us threw before deciding; not acknowledged, so retried.
        for (const m of p.messageIds) failedMessages.add(m);
      }
    }
    summary.failedMessages = failedMessages.size;
    summary.durationMs = now() - started;
    return {
      response: { batchItemFailures: [...failedMessages].map((itemIdentifier) => ({ itemIdentifier })) },
      summary,
    };
  };
  if (objects.length === 0) return finish();

  const log = (p: Pending) => ({ messageIds: p.messageIds, bucket: p.target.bucket, key: p.target.key });
  const fail = (p: Pending, err: unknown, what: string) => {
    p.status = 'failed';
    summary.objectsFailed++;
    logger.error(`${what} failed; the message will be retried`, { ...log(p), error: errorText(err) });
    logger.debug('stack', { stack: (err as Error)?.stack });
  };
  const skip = (p: Pending, reason: SkipReason, message: string) => {
    p.status = reason;
    summary.skipped[reason]++;
    (reason === 'duplicate' ? logger.info : logger.warn).call(logger, message, { ...log(p), reason });
  };
  const loaded = (p: Pending, counts: ObjectCounts) => {
    p.status = 'loaded';
    p.counts = counts;
    summary.objectsLoaded++;
    summary.rows += counts.rows;
    summary.rejects += counts.rejects;
    summary.bytes += counts.bytes;
    logger.info('Object loaded', {
      ...log(p),
      lines: counts.lines,
      rows: counts.rows,
      rejects: counts.rejects,
      bytes: counts.bytes,
      mode: config.loadMode,
      method: sink.method,
      force: p.target.force,
    });
  };
  /** A result other than `loaded`: another delivery won, or the key holds a newer version (never acknowledged). */
  const notLoaded = (p: Pending, result: ClaimResult) => {
    if (result === 'overwritten') {
      summary.objectsOverwritten++;
      return fail(p, overwrittenError(p.target), 'Loading an overwritten object');
    }
    summary.claimsLost++;
    skip(p, 'duplicate', 'Object already loaded (claimed by another delivery); acknowledged');
  };

  const loadedAt = new Date(now()).toISOString();
  const context: SinkContext = { config, s3: deps.s3, loadedAt };
  if (deps.connections) context.connections = deps.connections;
  if (deps.remainingMs) context.remainingMs = deps.remainingMs;
  let sink: Sink;
  try {
    sink = (deps.sink ?? createSink)(context);
    await sink.open();
  } catch (err) {
    logger.error('Cannot connect to Snowflake; every message with an object to load is retried', {
      error: errorText(err),
    });
    for (const p of objects) p.status = 'failed';
    summary.objectsFailed += objects.length;
    return finish();
  }

  try {
    // 2. Advisory look-up (forced replays load regardless).
    const candidates = objects.filter((p) => !p.target.force);
    if (candidates.length > 0) {
      try {
        const found = await sink.check(candidates.map((p) => p.target));
        for (const p of candidates) {
          const verdict = found.get(p.id);
          if (verdict?.kind === 'duplicate') skip(p, 'duplicate', 'Object already loaded; acknowledged');
          else if (verdict?.kind === 'failed') {
            if (verdict.reason === 'overwritten') summary.objectsOverwritten++;
            fail(p, verdict.error, 'Checking the object');
          }
        }
      } catch (err) {
        logger.warn('Ledger look-up failed; relying on the claim', { error: errorText(err) });
      }
    }

    // 3. Buffer what fits the memory budget (sinks that load many objects at once). The budget is
    // charged per parsed line by its estimated heap cost (memory-budget.ts), across all reads.
    const budget = new MemoryBudget(config.memoryBudgetBytes);
    const large: Pending[] = [];
    const buffered: Array<{ p: Pending; obj: BufferedObject }> = [];
    const queue = objects.filter((p) => p.status === undefined);
    const readOne = async (p: Pending): Promise<void> => {
      // Lines cost more heap than their stored bytes: an object whose size alone exceeds what is
      // left cannot fit, so it is streamed without a first read.
      if (p.size !== undefined && p.size > budget.available) return void large.push(p);
      let charged = 0;
      const spill = () => {
        budget.giveBack(charged);
        large.push(p);
      };
      try {
        const opened = await openObject(deps.s3, p.target);
        if (opened.kind === 'missing') return skip(p, 'missing', 'Object no longer exists; skipped');
        if (opened.kind === 'changed')
          return skip(
            p,
            'changed',
            `Object changed since the event (${opened.message}); skipped, its own event loads it`,
          );
        if (opened.contentLength !== undefined && opened.contentLength > budget.available) {
          opened.body.destroy();
          return spill();
        }
        const counter = { bytes: 0 };
        const builder = new RowBuilder(p.target, config.loadMode, loadedAt);
        const rows: Bind[][] = [];
        const rejects: Bind[][] = [];
        for await (const line of objectLines(
          counted(opened.body, counter, opened.contentLength),
          p.target,
          config.loadMode,
          logger,
          summary,
        )) {
          const cost = lineCost(line.raw);
          if (!budget.take(cost)) {
            // Decoded (gzip) or short-line objects outgrow their stored size: stream this one.
            opened.body.destroy();
            return spill();
          }
          charged += cost;
          const { bind, reject } = builder.add(line);
          (reject ? rejects : rows).push(bind);
        }
        builder.counts.bytes = counter.bytes;
        buffered.push({ p, obj: { target: p.target, counts: builder.counts, rows, rejects } });
      } catch (err) {
        budget.giveBack(charged);
        fail(p, err, 'Reading the object');
      }
    };
    if (sink.buffers) await eachConcurrently(queue, READ_CONCURRENCY, readOne);
    else large.push(...queue);

    const apply = (group: Array<{ p: Pending; obj: BufferedObject }>, results: Map<string, ClaimResult>) => {
      for (const { p, obj } of group) {
        const result = results.get(p.id) ?? 'duplicate';
        if (result === 'loaded') loaded(p, obj.counts);
        else notLoaded(p, result);
      }
    };
    if (buffered.length > 0) {
      try {
        apply(buffered, await sink.loadBuffered(buffered.map((b) => b.obj)));
      } catch (err) {
        if (buffered.length === 1) fail(buffered[0]!.p, err, 'Loading the object');
        else {
          logger.warn('Batch transaction failed; retrying its objects one per transaction', {
            objects: buffered.length,
            error: errorText(err),
          });
          for (const b of buffered) {
            const why = sink.cannotStart(b.p.target);
            if (why) {
              fail(b.p, new Error(why), 'Loading the object');
              continue;
            }
            try {
              apply([b], await sink.loadBuffered([b.obj]));
            } catch (err2) {
              fail(b.p, err2, 'Loading the object');
            }
          }
        }
      }
    }
    buffered.length = 0;

    // 4. Streamed objects (`insert`: one transaction each).
    const streamOne = async (p: Pending): Promise<void> => {
      const why = sink.cannotStart(p.target);
      if (why) return fail(p, new Error(why), 'Streaming the object');
      try {
        const opened = await openObject(deps.s3, p.target);
        if (opened.kind === 'missing') return skip(p, 'missing', 'Object no longer exists; skipped');
        if (opened.kind === 'changed')
          return skip(
            p,
            'changed',
            `Object changed since the event (${opened.message}); skipped, its own event loads it`,
          );
        const counter = { bytes: 0 };
        const { result, counts } = await sink
          .loadStreamed(
            p.target,
            objectLines(
              counted(opened.body, counter, opened.contentLength),
              p.target,
              config.loadMode,
              logger,
              summary,
            ),
            () => counter.bytes,
          )
          .finally(() => opened.body.destroy());
        if (result === 'loaded') loaded(p, counts);
        else notLoaded(p, result);
      } catch (err) {
        fail(p, err, 'Streaming the object');
      }
    };
    await eachConcurrently(large, sink.streamConcurrency, streamOne);
  } catch (err) {
    // A bug, not a data problem: objects without an outcome are retried (see finish()).
    logger.error('Unexpected error; undecided messages will be retried', { error: errorText(err) });
  } finally {
    const stats = sink.stats();
    summary.roundTrips += stats.roundTrips;
    summary.transactions += stats.transactions;
    summary.filesStaged += stats.filesStaged;
    const warning = await sink.close();
    if (warning) logger.warn(warning);
  }

  let newest: string | undefined;
  for (const p of objects)
    if (p.counts?.newestRequest && (!newest || p.counts.newestRequest > newest)) newest = p.counts.newestRequest;
  if (newest) summary.deliveryLagSeconds = Math.max(0, (now() - Date.parse(newest)) / 1000);
  return finish();
}
