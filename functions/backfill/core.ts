/**
 * The backfill itself, with every client injected so the Lambda handler, the CLI's `--local` mode
 * and the tests run the same code.
 *
 * One request becomes a listing plan (the date prefixes the padded range needs, per key layout),
 * walked page by page: each page's keys are filtered by key time, checked against the ledger, and
 * the missing ones are sent to the ingest queue as S3 event messages, ten per SendMessageBatch.
 * When the invocation's time runs low the state is handed to a new asynchronous invocation.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, type SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import {
  keyInRange,
  parseLogKey,
  partitionedListingPrefixes,
  simpleListingPrefixes,
  vendedListingPrefixes,
  type TimeRange,
} from '../../shared/s3/key-layouts.ts';
import { Lister, type ListedObject } from '../../shared/s3/listing.ts';
import { decodeState, emptyTotals, encodeState, type ContinuationState, type Totals } from './continuation.ts';
import type { Ledger } from './ledger.ts';
import { buildEventMessage, dedupKey } from './messages.ts';
import { redriveDlq, type RedriveSummary } from './redrive.ts';
import { BackfillRequestError, validateRequest, type BackfillPayload, type RequestLimits } from './request.ts';

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

/** The slice of the Lambda context the backfill uses. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

export interface PaddingInfo {
  beforeMinutes: number;
  afterMinutes: number;
  /** The key-time window actually selected, ISO; absent when the whole prefix was replayed. */
  keyTimeFrom?: string;
  keyTimeTo?: string;
  note: string;
}

export interface BackfillSummary extends Totals {
  id: string;
  bucket: string;
  prefix: string;
  from?: string;
  to?: string;
  dryRun: boolean;
  force: boolean;
  /** 1 for the first invocation; totals are cumulative over all invocations so far. */
  invocation: number;
  prefixesPlanned: number;
  partitionRoots: number;
  padding: PaddingInfo;
  /** Set when this invocation handed the rest over: the new invocation's request id. */
  continuedAs?: string;
  /** True when `maxObjects` stopped the backfill before the listing ended. */
  truncated: boolean;
  done: boolean;
  durationMs: number;
}

const PADDING_NOTE =
  'Key times are delivery times and S3 delivers access logs best effort, most within a few hours: ' +
  'objects are selected by key time from `from` minus the before-padding to `to` plus the after-padding, ' +
  'so late deliveries of in-range events are included; objects loaded already are skipped by the ledger.';

export function paddingInfo(
  config: Pick<BackfillSettings, 'paddingBeforeMs' | 'paddingAfterMs'>,
  window?: { from: string; to: string },
): PaddingInfo {
  const info: PaddingInfo = {
    beforeMinutes: config.paddingBeforeMs / 60_000,
    afterMinutes: config.paddingAfterMs / 60_000,
    note: PADDING_NOTE,
  };
  if (window) {
    info.keyTimeFrom = window.from;
    info.keyTimeTo = window.to;
  }
  return info;
}

/**
 * The listing plan: date prefixes per layout when there is a range, else the whole prefix.
 * `partitionRoots` counts the roots of both foldered layouts (partitioned and vended delivery).
 */
async function plan(lister: Lister, prefix: string, window: TimeRange | undefined) {
  if (!window) return { prefixes: [prefix], partitionRoots: 0 };
  const top = await lister.topFolders(prefix);
  const roots = await lister.partitionRoots(prefix, top);
  const vended = await lister.vendedRoots(prefix, top);
  const prefixes = [
    ...simpleListingPrefixes(prefix, window),
    ...roots.flatMap((root) => partitionedListingPrefixes(root, window)),
    ...vended.flatMap((v) => vendedListingPrefixes(v.root, v.hive, window)),
  ];
  return { prefixes, partitionRoots: roots.length + vended.length };
}

async function sendBatch(deps: BackfillDeps, entries: SendMessageBatchRequestEntry[]): Promise<void> {
  let pending = entries;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const out = await deps.sqs.send(new SendMessageBatchCommand({ QueueUrl: deps.config.queueUrl, Entries: pending }));
    const failed = new Set((out.Failed ?? []).map((f) => f.Id));
    if (failed.size === 0) return;
    if (attempt >= 3) {
      const first = out.Failed?.[0];
      throw new Error(
        `SendMessageBatch failed for ${failed.size} message(s) after ${attempt} attempts: ${first?.Code ?? ''} ${first?.Message ?? ''}`,
      );
    }
    pending = pending.filter((e) => failed.has(e.Id));
    await new Promise((r) => setTimeout(r, 100 * attempt));
  }
}

function newState(deps: BackfillDeps, payload: BackfillPayload, ctx: InvocationContext): ContinuationState {
  const now = deps.now?.() ?? new Date();
  const req = validateRequest(payload, deps.config, now);
  const window =
    req.from && req.to
      ? {
          from: new Date(req.from.getTime() - deps.config.paddingBeforeMs).toISOString(),
          to: new Date(req.to.getTime() + deps.config.paddingAfterMs).toISOString(),
        }
      : undefined;
  const state: ContinuationState = {
    v: 1,
    // A Lambda retry of the same event keeps the request id, so a retried first invocation reuses the id.
    id: `backfill-${ctx.awsRequestId ?? now.getTime().toString(36)}`,
    invocation: 1,
    startedAt: now.toISOString(),
    request: { bucket: req.bucket, prefix: req.prefix, dryRun: req.dryRun, force: req.force },
    prefixes: [],
    partitionRoots: 0,
    prefixIndex: 0,
    position: 0,
    totals: emptyTotals(),
  };
  if (req.from) state.request.from = req.from.toISOString();
  if (req.to) state.request.to = req.to.toISOString();
  if (req.maxObjects !== undefined) state.request.maxObjects = req.maxObjects;
  if (window) state.window = window;
  return state;
}

type Entry = { object: ListedObject; kind: 'ignored' | 'outside' | 'loaded' | 'send' };

function isRefusedToken(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; message?: string };
  return e?.name === 'InvalidArgument' || e?.Code === 'InvalidArgument' || /continuation token/i.test(e?.message ?? '');
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
  let state: ContinuationState;
  if (p.continuation !== undefined) {
    const extra = Object.keys(p).find((k) => k !== 'continuation');
    if (extra) throw new BackfillRequestError(extra, 'cannot be combined with continuation');
    state = decodeState(p.continuation);
    state.invocation += 1;
  } else {
    state = newState(deps, p, ctx);
  }
  const { request } = state;
  const lister = new Lister(deps.s3, request.bucket);
  const totals = state.totals;
  const listCallsBefore = totals.listCalls;
  const window = state.window ? { from: new Date(state.window.from), to: new Date(state.window.to) } : undefined;

  if (state.invocation === 1 && state.prefixes.length === 0) {
    const planned = await plan(lister, request.prefix, window);
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

  let progressed = false;
  let truncated = false;
  // Always make some progress, so a continuation that starts short on time cannot loop forever.
  const outOfTime = () => progressed && ctx.getRemainingTimeInMillis() < deps.config.safetyMarginMs;
  const limitReached = () => request.maxObjects !== undefined && totals.selected >= request.maxObjects;
  const replay = { force: request.force, id: state.id };

  let handOver = false;
  outer: while (state.prefixIndex < state.prefixes.length) {
    if (limitReached()) {
      truncated = true;
      break;
    }
    if (outOfTime()) {
      handOver = true;
      break;
    }
    const prefix = state.prefixes[state.prefixIndex]!;
    let page;
    try {
      page = await lister.page({ prefix, continuationToken: state.s3Token, maxKeys: deps.config.pageSize });
    } catch (err) {
      if (!state.s3Token || state.lastKey === undefined || !isRefusedToken(err)) throw err;
      // A continuation token from an earlier invocation may have gone stale; the last handled key
      // marks the same place.
      deps.logger.warn('continuation token refused; resuming after the last handled key', {
        id: state.id,
        prefix,
        lastKey: state.lastKey,
      });
      page = await lister.page({ prefix, startAfter: state.lastKey, maxKeys: deps.config.pageSize });
      state.position = 0;
    }
    totals.listCalls = listCallsBefore + lister.calls;
    progressed = true;

    const entries: Entry[] = page.objects.slice(state.position).map((object) => {
      const parsed = parseLogKey(object.key, request.prefix);
      if (!parsed) return { object, kind: 'ignored' };
      if (window && !keyInRange(parsed, window)) return { object, kind: 'outside' };
      return { object, kind: 'send' };
    });
    const candidates = entries.filter((e) => e.kind === 'send').map((e) => e.object.key);
    if (!request.force && candidates.length > 0) {
      const loaded = await deps.ledger.loadedKeys(request.bucket, candidates);
      for (const e of entries) if (e.kind === 'send' && loaded.has(e.object.key)) e.kind = 'loaded';
    }

    // Groups end after 10 messages: the unit of sending, of time checks and of the cursor.
    let i = 0;
    while (i < entries.length) {
      if (outOfTime()) {
        handOver = true;
        break outer;
      }
      const group: Entry[] = [];
      let sends = 0;
      let selectedInGroup = 0;
      const room = request.maxObjects === undefined ? Infinity : request.maxObjects - totals.selected;
      while (i < entries.length && sends < 10) {
        const e = entries[i]!;
        const selects = e.kind === 'send' || e.kind === 'loaded';
        if (selects && selectedInGroup >= room) {
          truncated = true;
          break;
        }
        group.push(e);
        if (selects) selectedInGroup++;
        if (e.kind === 'send') sends++;
        i++;
      }
      const toSend = group.filter((e) => e.kind === 'send');
      if (!request.dryRun && toSend.length > 0) {
        await sendBatch(
          deps,
          toSend.map((e, n) => {
            const key = dedupKey(replay.id, request.bucket, e.object, request.force);
            const entry: SendMessageBatchRequestEntry = {
              Id: `m${n}`,
              MessageBody: JSON.stringify(
                buildEventMessage(request.bucket, e.object, { region: deps.config.region, replay }),
              ),
              MessageAttributes: { backfillDedupKey: { DataType: 'String', StringValue: key } },
            };
            if (deps.config.queueUrl.endsWith('.fifo')) {
              entry.MessageDeduplicationId = key;
              entry.MessageGroupId = request.bucket;
            }
            return entry;
          }),
        );
      }
      for (const e of group) {
        totals.listed++;
        if (e.kind === 'ignored') totals.ignored++;
        else if (e.kind === 'loaded') {
          totals.selected++;
          totals.alreadyLoaded++;
        } else if (e.kind === 'send') {
          totals.selected++;
          totals.enqueued++;
        }
      }
      state.position += group.length;
      if (group.length > 0) state.lastKey = group[group.length - 1]!.object.key;
      if (truncated) break outer;
    }

    state.position = 0;
    if (page.nextToken) state.s3Token = page.nextToken;
    else {
      delete state.s3Token;
      delete state.lastKey;
      state.prefixIndex++;
    }
    deps.logger.info('backfill progress', {
      id: state.id,
      invocation: state.invocation,
      prefix: `${state.prefixIndex}/${state.prefixes.length}`,
      ...totals,
    });
  }

  totals.listCalls = listCallsBefore + lister.calls;
  const summary: BackfillSummary = {
    id: state.id,
    bucket: request.bucket,
    prefix: request.prefix,
    dryRun: request.dryRun,
    force: request.force,
    invocation: state.invocation,
    ...totals,
    prefixesPlanned: state.prefixes.length,
    partitionRoots: state.partitionRoots,
    padding: paddingInfo(deps.config, state.window),
    truncated,
    done: !handOver,
    durationMs: 0,
  };
  if (request.from) summary.from = request.from;
  if (request.to) summary.to = request.to;

  if (handOver) {
    // Handing over is the last thing this invocation does, so a failure before it is retried
    // from this invocation's own start cursor rather than forking a second chain.
    summary.continuedAs = await deps.continueWith({ continuation: encodeState(state) });
    deps.logger.info('backfill continues in a new invocation', {
      id: state.id,
      continuedAs: summary.continuedAs,
      ...totals,
    });
  } else {
    deps.logger.info('backfill finished', { id: state.id, invocations: state.invocation, truncated, ...totals });
  }
  summary.durationMs = Date.now() - started;
  return summary;
}
