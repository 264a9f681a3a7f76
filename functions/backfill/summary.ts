/**
 * What an invocation answers: the request, the cumulative totals, the plan's size, the padding
 * and how the invocation ended.
 */
import type { ContinuationState, Totals } from './continuation.ts';
import type { Padding } from './plan.ts';

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

export function paddingInfo(config: Padding, window?: { from: string; to: string }): PaddingInfo {
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

/** How the invocation ended: `handOver` = a new invocation continues; `truncated` = maxObjects reached. */
export type Ending = 'finished' | 'truncated' | 'handOver';

export function summarize(state: ContinuationState, padding: Padding, ending: Ending, durationMs: number) {
  const { request } = state;
  const summary: BackfillSummary = {
    id: state.id,
    bucket: request.bucket,
    prefix: request.prefix,
    dryRun: request.dryRun,
    force: request.force,
    invocation: state.invocation,
    ...state.totals,
    prefixesPlanned: state.prefixes.length,
    partitionRoots: state.partitionRoots,
    padding: paddingInfo(padding, state.window),
    truncated: ending === 'truncated',
    done: ending !== 'handOver',
    durationMs,
  };
  if (request.from) summary.from = request.from;
  if (request.to) summary.to = request.to;
  return summary;
}
