/**
 * One SQS batch → loaded objects → the batch response, in stages (each its own module):
 * 1. plan.ts            records → distinct objects to load (envelopes, allow-lists, dedup); pure.
 * 2. commit.ts          the sink's advisory look-up: objects already loaded are not read.
 * 3. buffer-objects.ts  for sinks that load many objects at once (`insert`): read the objects that
 *                       fit the memory budget into bind arrays (read-object.ts reads S3).
 * 4. commit.ts          buffered objects in one load (one by one if that fails), then every other
 *                       object streamed through the sink.
 * 5. outcomes.ts        every stage reports there → `batchItemFailures` and the summary.
 * Errors are caught per object, so one bad object fails only the messages that announced it.
 *
 * The load method is a sink (shared/snowflake/sink.ts); everything else here is shared by both.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent } from 'aws-lambda';
import { type IngestConfig, isAllowedObject } from '../../shared/config.ts';
import type { ConnectionProvider } from '../../shared/snowflake/connection.ts';
import { RowBuilder } from '../../shared/snowflake/loader.ts';
import type { Sink } from '../../shared/snowflake/sink.ts';
import { bufferObjects } from './buffer-objects.ts';
import { type CommitDeps, commitBuffered, precheck, streamObjects } from './commit.ts';
import { MemoryBudget } from './memory-budget.ts';
import { BatchOutcomes, type BatchResult, errorText } from './outcomes.ts';
import { type PlannedObject, planBatch } from './plan.ts';
import { s3LineSource } from './read-object.ts';
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

/** The batch's sink, opened; undefined (logged) when it cannot be created or opened. */
async function openSink(deps: BatchDeps, loadedAt: string): Promise<Sink | undefined> {
  const context: SinkContext = { config: deps.config, s3: deps.s3, loadedAt };
  if (deps.connections) context.connections = deps.connections;
  if (deps.remainingMs) context.remainingMs = deps.remainingMs;
  try {
    const sink = (deps.sink ?? createSink)(context);
    await sink.open();
    return sink;
  } catch (err) {
    deps.logger.error('Cannot connect to Snowflake; every message with an object to load is retried', {
      error: errorText(err),
    });
    return undefined;
  }
}

/** Stages 2–4 through an open sink. */
async function load(objects: PlannedObject[], deps: BatchDeps, commit: CommitDeps, loadedAt: string) {
  const { config } = deps;
  const { sink, outcomes } = commit;
  await precheck(objects, commit);
  const source = s3LineSource(deps.s3, config.loadMode, deps.logger, outcomes.summary);
  let toStream = objects.filter((p) => outcomes.undecided(p));
  if (sink.buffers) {
    const { buffered, streamed } = await bufferObjects(toStream, {
      source,
      budget: new MemoryBudget(config.memoryBudgetBytes),
      rowBuilder: (p) => new RowBuilder(p.target, config.loadMode, loadedAt),
      outcomes,
    });
    await commitBuffered(buffered, commit);
    buffered.length = 0; // the rows are loaded: free them before streaming the rest
    toStream = streamed;
  }
  await streamObjects(toStream, source, commit);
}

export async function processBatch(event: SQSEvent, deps: BatchDeps): Promise<BatchResult> {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const started = now();
  const outcomes = new BatchOutcomes(event.Records.length, logger);
  const plan = planBatch(event.Records, (bucket, key) => isAllowedObject(config, bucket, key));
  outcomes.planned(plan);
  const { objects } = plan;
  if (objects.length === 0) return outcomes.finish(objects, started, now);

  const loadedAt = new Date(now()).toISOString();
  const sink = await openSink(deps, loadedAt);
  if (!sink) {
    outcomes.allFailed(objects);
    return outcomes.finish(objects, started, now);
  }
  try {
    await load(objects, deps, { sink, outcomes, logger, mode: config.loadMode }, loadedAt);
  } catch (err) {
    // A bug, not a data problem: objects without an outcome are retried (see outcomes.finish).
    logger.error('Unexpected error; undecided messages will be retried', { error: errorText(err) });
  } finally {
    outcomes.sinkStats(sink.stats());
    const warning = await sink.close();
    if (warning) logger.warn(warning);
  }
  return outcomes.finish(objects, started, now);
}
