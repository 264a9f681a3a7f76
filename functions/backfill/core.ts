/**
 * The backfill itself, with every client injected so the Lambda handler, the CLI's `--local` mode
 * and the tests run the same code. It strings the stages together:
 *
 *   plan (plan.ts)     request → state with a padded window; first invocation: the listing prefixes
 *   list (list.ts)     the cursor → the page it points into
 *   filter (select.ts) page objects → entries: ignored, outside the window, loaded, or to send
 *   enqueue            entries → groups of ≤ 10 messages on the ingest queue (enqueue.ts)
 *   continue           cursor moves (continuation.ts); when time runs low (budget.ts), the state
 *                      goes to a new asynchronous invocation
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { TimeRange } from '../../shared/s3/key-layouts.ts';
import { Lister } from '../../shared/s3/listing.ts';
import { Budget, type InvocationContext } from './budget.ts';
import { advance, type ContinuationState, encodeState, nextPage, resumeState } from './continuation.ts';
import { batchEntries, sendBatch, takeGroup } from './enqueue.ts';
import type { Ledger } from './ledger.ts';
import { pageAt } from './list.ts';
import { planPrefixes, startState } from './plan.ts';
import { type RedriveSummary, redriveDlq } from './redrive.ts';
import { type BackfillPayload, type RequestLimits, validateRequest } from './request.ts';
import { type Entry, selectObjects, tally } from './select.ts';
import { type BackfillSummary, type Ending, summarize } from './summary.ts';

export type { InvocationContext } from './budget.ts';
export type { BackfillSummary } from './summary.ts';

export interface BackfillSettings extends RequestLimits {
  queueUrl: string;
  dlqUrl?: string;
  region: string;
  paddingBeforeMs: number;
  paddingAfterMs: number;
  /** Hand over to a new invocation when less than this is left. */
  safetyMarginMs: number;
  /** Keys per ListObjectsV2 page (S3's maximum, 1000, when unset; tests use less to get many pages). */
  pageSize?: number;
}

export interface ProgressLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface BackfillDeps {
  config: BackfillSettings;
  s3: S3Client;
  sqs: SQSClient;
  ledger: Ledger;
  /** Starts the next invocation asynchronously with this payload; returns an id for it (request id). */
  continueWith(payload: BackfillPayload): Promise<string>;
  logger: ProgressLogger;
  now?: () => Date;
}

/** One invocation's walk over the plan: the state it advances and what it walks with. */
interface Walk {
  deps: BackfillDeps;
  state: ContinuationState;
  lister: Lister;
  window?: TimeRange;
  budget: Budget;
  /** LIST calls of the earlier invocations (the lister counts this one's). */
  listCallsBefore: number;
}

/** Runs (or continues) a backfill, or a DLQ redrive when the payload asks for one. */
export async function runBackfill(
  deps: BackfillDeps,
  payload: BackfillPayload,
  ctx: InvocationContext,
): Promise<BackfillSummary | RedriveSummary> {
  const p = (payload ?? {}) as BackfillPayload;
  if (p.redriveDlq === true) {
    validateRequest(p, deps.config);
    return redriveDlq(deps, p, ctx);
  }
  const started = Date.now();
  const state = p.continuation === undefined ? newState(deps, p, ctx) : resumeState({ ...p });
  const { totals, request } = state;
  const walk: Walk = {
    deps,
    state,
    lister: new Lister(deps.s3, request.bucket),
    window: state.window ? { from: new Date(state.window.from), to: new Date(state.window.to) } : undefined,
    budget: new Budget(ctx, deps.config.safetyMarginMs, totals, request.maxObjects),
    listCallsBefore: totals.listCalls,
  };
  if (state.invocation === 1 && state.prefixes.length === 0) await plan(walk);
  const ending = await walkPlan(walk);
  totals.listCalls = walk.listCallsBefore + walk.lister.calls;
  return finish(deps, state, ending, started);
}

function newState(deps: BackfillDeps, payload: BackfillPayload, ctx: InvocationContext): ContinuationState {
  const now = deps.now?.() ?? new Date();
  const request = validateRequest(payload, deps.config, now);
  // A Lambda retry of the same event keeps the request id, so a retried first invocation reuses the id.
  return startState(request, deps.config, `backfill-${ctx.awsRequestId ?? now.getTime().toString(36)}`, now);
}

async function plan({ deps, state, lister, window }: Walk): Promise<void> {
  const { request } = state;
  const planned = await planPrefixes(lister, request.prefix, window);
  state.prefixes = planned.prefixes;
  state.partitionRoots = planned.partitionRoots;
  deps.logger.info('backfill planned', {
    id: state.id,
    bucket: request.bucket,
    prefix: request.prefix,
    keyTimeFrom: state.window?.from,
    keyTimeTo: state.window?.to,
    prefixes: state.prefixes.length,
    partitionRoots: state.partitionRoots,
    dryRun: request.dryRun,
    force: request.force,
  });
}

/** Page after page from the cursor, until the plan ends, maxObjects is reached or time runs low. */
async function walkPlan(walk: Walk): Promise<Ending> {
  const { state, budget } = walk;
  while (state.prefixIndex < state.prefixes.length) {
    if (budget.room() <= 0) return 'truncated';
    if (budget.outOfTime()) return 'handOver';
    const ending = await walkPage(walk);
    if (ending !== 'finished') return ending;
  }
  return 'finished';
}

/** One page: list it, select its objects, enqueue them group by group; `finished` = the page is done. */
async function walkPage(walk: Walk): Promise<Ending> {
  const { deps, state, lister } = walk;
  const { request, totals } = state;
  const { s3Token, position, lastKey } = state;
  const cursor = { prefix: state.prefixes[state.prefixIndex]!, s3Token, position, lastKey };
  const { page, handled } = await pageAt(lister, cursor, deps.config.pageSize, () =>
    deps.logger.warn('continuation token refused; resuming after the last handled key', {
      id: state.id,
      prefix: cursor.prefix,
      lastKey,
    }),
  );
  state.position = handled;
  totals.listCalls = walk.listCallsBefore + lister.calls;
  walk.budget.progress();
  const selection = { bucket: request.bucket, prefix: request.prefix, window: walk.window, force: request.force };
  const entries = await selectObjects(page.objects.slice(handled), selection, deps.ledger);
  const ending = await enqueueGroups(walk, entries);
  if (ending !== 'finished') return ending;
  nextPage(state, page.nextToken);
  deps.logger.info('backfill progress', {
    id: state.id,
    invocation: state.invocation,
    prefix: `${state.prefixIndex}/${state.prefixes.length}`,
    ...totals,
  });
  return 'finished';
}

/** A page's entries in groups of up to 10 messages; the cursor moves after each group. */
async function enqueueGroups(walk: Walk, entries: Entry[]): Promise<Ending> {
  const { deps, state, budget } = walk;
  const { request } = state;
  const replay = { force: request.force, id: state.id };
  for (let i = 0; i < entries.length; ) {
    if (budget.outOfTime()) return 'handOver';
    const { group, truncated } = takeGroup(entries, i, budget.room());
    const toSend = group.filter((e) => e.kind === 'send').map((e) => e.object);
    if (!request.dryRun && toSend.length > 0) {
      await sendBatch(deps.sqs, deps.config.queueUrl, batchEntries(toSend, request.bucket, replay, deps.config));
    }
    tally(state.totals, group);
    advance(
      state,
      group.map((e) => e.object.key),
    );
    i += group.length;
    if (truncated) return 'truncated';
  }
  return 'finished';
}

/** The summary; on a hand-over, the next invocation is started first. */
async function finish(
  deps: BackfillDeps,
  state: ContinuationState,
  ending: Ending,
  started: number,
): Promise<BackfillSummary> {
  const { id, totals } = state;
  let continuedAs: string | undefined;
  if (ending === 'handOver') {
    // Handing over is the last thing this invocation does, so a failure before it is retried
    // from this invocation's own start cursor rather than forking a second chain.
    continuedAs = await deps.continueWith({ continuation: encodeState(state) });
    deps.logger.info('backfill continues in a new invocation', { id, continuedAs, ...totals });
  } else {
    const truncated = ending === 'truncated';
    deps.logger.info('backfill finished', { id, invocations: state.invocation, truncated, ...totals });
  }
  const summary = summarize(state, deps.config, ending, Date.now() - started);
  if (continuedAs !== undefined) summary.continuedAs = continuedAs;
  return summary;
}
