/**
 * Stage 3, filter: which listed objects to send. By key first (a log key? inside the window?),
 * then by the ledger (loaded already?) unless the request forces a reload.
 */
import { keyInRange, parseLogKey, type TimeRange } from '../../shared/s3/key-layouts.ts';
import type { ListedObject } from '../../shared/s3/listing.ts';
import type { Totals } from './continuation.ts';
import type { Ledger } from './ledger.ts';

/** `ignored`: not a log key; `outside`: not in the window; `loaded`: in the ledger; `send`: to enqueue. */
export type EntryKind = 'ignored' | 'outside' | 'loaded' | 'send';

export interface Entry {
  object: ListedObject;
  kind: EntryKind;
}

/** Each object by its key alone: `ignored`, `outside`, or (for now) `send`. */
export function byKey(objects: ListedObject[], prefix: string, window: TimeRange | undefined): Entry[] {
  return objects.map((object) => {
    const parsed = parseLogKey(object.key, prefix);
    if (!parsed) return { object, kind: 'ignored' };
    if (window && !keyInRange(parsed, window)) return { object, kind: 'outside' };
    return { object, kind: 'send' };
  });
}

/** Turns the `send` entries the ledger holds into `loaded`, with one ledger lookup for the page. */
export async function skipLoaded(entries: Entry[], ledger: Ledger, bucket: string): Promise<Entry[]> {
  const candidates = entries.filter((e) => e.kind === 'send').map((e) => e.object.key);
  if (candidates.length === 0) return entries;
  const loaded = await ledger.loadedKeys(bucket, candidates);
  return entries.map((e) => (e.kind === 'send' && loaded.has(e.object.key) ? { ...e, kind: 'loaded' } : e));
}

export interface Selection {
  bucket: string;
  /** The request's prefix: key layouts are parsed relative to it. */
  prefix: string;
  window?: TimeRange;
  /** Send loaded objects again (the ledger is not asked). */
  force: boolean;
}

/** A page's objects, each with what the backfill does with it. */
export async function selectObjects(objects: ListedObject[], selection: Selection, ledger: Ledger): Promise<Entry[]> {
  const entries = byKey(objects, selection.prefix, selection.window);
  return selection.force ? entries : skipLoaded(entries, ledger, selection.bucket);
}

/** A handled group in the running totals: every entry is listed, `loaded` and `send` are selected. */
export function tally(totals: Totals, group: Entry[]): void {
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
}
