/**
 * Stage 1, plan: a validated request becomes the state of a new backfill (its padded key-time
 * window, an empty cursor) and, on the first invocation, the listing plan: the date prefixes the
 * window needs under each key layout.
 */
import {
  partitionedListingPrefixes,
  simpleListingPrefixes,
  type TimeRange,
  vendedListingPrefixes,
} from '../../shared/s3/key-layouts.ts';
import type { Lister } from '../../shared/s3/listing.ts';
import { type ContinuationState, emptyTotals } from './continuation.ts';
import type { BackfillRequest } from './request.ts';

export interface Padding {
  paddingBeforeMs: number;
  paddingAfterMs: number;
}

/**
 * The key-time window, ISO: the range widened by the padding, because key times are delivery
 * times and late deliveries of in-range events must be included. None for the whole prefix.
 */
export function paddedWindow(req: Pick<BackfillRequest, 'from' | 'to'>, padding: Padding) {
  if (!req.from || !req.to) return undefined;
  return {
    from: new Date(req.from.getTime() - padding.paddingBeforeMs).toISOString(),
    to: new Date(req.to.getTime() + padding.paddingAfterMs).toISOString(),
  };
}

/** A new backfill's state: the request, its window, no plan yet, the cursor at the start. */
export function startState(req: BackfillRequest, padding: Padding, id: string, now: Date): ContinuationState {
  const state: ContinuationState = {
    v: 1,
    id,
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
  const window = paddedWindow(req, padding);
  if (window) state.window = window;
  return state;
}

/**
 * The listing plan: date prefixes per layout when there is a window, else the whole prefix.
 * `partitionRoots` counts the roots of both foldered layouts (partitioned and vended delivery).
 */
export async function planPrefixes(
  lister: Pick<Lister, 'topFolders' | 'partitionRoots' | 'vendedRoots'>,
  prefix: string,
  window: TimeRange | undefined,
): Promise<{ prefixes: string[]; partitionRoots: number }> {
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
