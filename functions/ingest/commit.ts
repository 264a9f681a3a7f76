/**
 * Committing through the sink (shared/snowflake/sink.ts): the advisory look-up, buffered objects
 * together, streamed objects one by one. Every answer and error is recorded in the batch's
 * outcomes; nothing here throws for one object's failure.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { LoadMode } from '../../shared/config.ts';
import type { ClaimResult, Sink } from '../../shared/snowflake/sink.ts';
import type { Buffered } from './buffer-objects.ts';
import { eachConcurrently } from './concurrency.ts';
import { type BatchOutcomes, errorText } from './outcomes.ts';
import type { PlannedObject } from './plan.ts';
import type { LineSource } from './read-object.ts';

export interface CommitDeps {
  sink: Sink;
  outcomes: BatchOutcomes;
  logger: Logger;
  mode: LoadMode;
}

/**
 * Asks the sink which objects are already loaded, to save their S3 reads. Advisory: a failed
 * look-up only logs (the load itself still guarantees exactly-once); forced replays load regardless.
 */
export async function precheck(objects: readonly PlannedObject[], { sink, outcomes, logger }: CommitDeps) {
  const candidates = objects.filter((p) => !p.target.force);
  if (candidates.length === 0) return;
  try {
    const found = await sink.check(candidates.map((p) => p.target));
    for (const p of candidates) {
      const verdict = found.get(p.id);
      if (verdict?.kind === 'duplicate') outcomes.skipped(p, 'duplicate', 'Object already loaded; acknowledged');
      else if (verdict?.kind === 'failed' && verdict.reason === 'overwritten')
        outcomes.overwritten(p, verdict.error, 'Checking the object');
      else if (verdict?.kind === 'failed') outcomes.failed(p, verdict.error, 'Checking the object');
    }
  } catch (err) {
    logger.warn('Ledger look-up failed; relying on the claim', { error: errorText(err) });
  }
}

function settle(group: readonly Buffered[], results: Map<string, ClaimResult>, deps: CommitDeps): void {
  const how = { mode: deps.mode, method: deps.sink.method };
  for (const { object, loaded } of group)
    deps.outcomes.claimed(object, results.get(object.id) ?? 'duplicate', loaded.counts, how);
}

/**
 * Loads the buffered objects at once (`insert`: ONE transaction). If that fails, retries them one
 * by one, so a poison object cannot keep the rest of the batch from loading.
 */
export async function commitBuffered(buffered: readonly Buffered[], deps: CommitDeps): Promise<void> {
  if (buffered.length === 0) return;
  const { sink, outcomes } = deps;
  try {
    return settle(buffered, await sink.loadBuffered(buffered.map((b) => b.loaded)), deps);
  } catch (err) {
    if (buffered.length === 1) return outcomes.failed(buffered[0]!.object, err, 'Loading the object');
    deps.logger.warn('Batch transaction failed; retrying its objects one per transaction', {
      objects: buffered.length,
      error: errorText(err),
    });
  }
  for (const b of buffered) {
    const why = sink.cannotStart(b.object.target);
    if (why) {
      outcomes.failed(b.object, new Error(why), 'Loading the object');
      continue;
    }
    try {
      settle([b], await sink.loadBuffered([b.loaded]), deps);
    } catch (err) {
      outcomes.failed(b.object, err, 'Loading the object');
    }
  }
}

/** Streams one object through the sink (`insert`: one transaction; `pipe`: always). */
async function streamOne(p: PlannedObject, source: LineSource, deps: CommitDeps): Promise<void> {
  const { sink, outcomes } = deps;
  const why = sink.cannotStart(p.target);
  if (why) return outcomes.failed(p, new Error(why), 'Streaming the object');
  try {
    const opened = await source(p.target);
    if (opened.kind !== 'ok') return outcomes.notOpened(p, opened);
    const { result, counts } = await sink
      .loadStreamed(p.target, opened.lines, opened.bytes)
      .finally(() => opened.destroy());
    outcomes.claimed(p, result, counts, { mode: deps.mode, method: sink.method });
  } catch (err) {
    outcomes.failed(p, err, 'Streaming the object');
  }
}

/** Streams objects with at most the sink's `streamConcurrency` in flight. */
export async function streamObjects(objects: readonly PlannedObject[], source: LineSource, deps: CommitDeps) {
  await eachConcurrently(objects, deps.sink.streamConcurrency, (p) => streamOne(p, source, deps));
}
