/**
 * The state a backfill hands to its next invocation. It travels inside the async Invoke payload
 * (256 KB limit), so it holds only the remaining listing plan, a cursor and the running totals.
 *
 * The cursor is (prefix index, the S3 ContinuationToken that fetched the current page, position
 * within that page). Re-fetching a page with the same token returns the same keys (S3 tokens
 * encode where the listing stands), so a retried or continued invocation resumes exactly at the
 * first object not yet handled.
 */
import { BackfillRequestError } from './request.ts';

export interface Totals {
  listed: number;
  selected: number;
  alreadyLoaded: number;
  enqueued: number;
  /** Listed keys that are in neither log key format. */
  ignored: number;
  listCalls: number;
}

export const emptyTotals = (): Totals => ({
  listed: 0,
  selected: 0,
  alreadyLoaded: 0,
  enqueued: 0,
  ignored: 0,
  listCalls: 0,
});

export interface ContinuationState {
  v: 1;
  id: string;
  invocation: number;
  startedAt: string;
  request: {
    bucket: string;
    prefix: string;
    from?: string;
    to?: string;
    dryRun: boolean;
    force: boolean;
    maxObjects?: number;
  };
  /** Padded key-time range, ISO; absent when the whole prefix is replayed. */
  window?: { from: string; to: string };
  prefixes: string[];
  partitionRoots: number;
  prefixIndex: number;
  s3Token?: string;
  position: number;
  /**
   * The last key handled in the current prefix: if S3 refuses a stale continuation token, the
   * listing resumes with StartAfter this key instead.
   */
  lastKey?: string;
  totals: Totals;
}

const MAX_PAYLOAD = 240_000;

export function encodeState(state: ContinuationState): ContinuationState {
  const size = Buffer.byteLength(JSON.stringify(state));
  if (size > MAX_PAYLOAD) {
    // Only a plan of many thousands of prefixes gets here; a narrower range or prefix fixes it.
    throw new Error(
      `the continuation state is ${size} bytes, over the ${MAX_PAYLOAD}-byte async Invoke limit; split the range`,
    );
  }
  return state;
}

const isStr = (v: unknown) => typeof v === 'string';
const isNat = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks a continuation that came in a payload; it is internal, but still input. */
export function decodeState(value: unknown): ContinuationState {
  const bad = (what: string) =>
    new BackfillRequestError('continuation', `${what}; this field is set by the function itself, do not pass it`);
  if (typeof value !== 'object' || value === null) throw bad('must be an object');
  const s = value as Record<string, unknown>;
  if (s.v !== 1) throw bad('has an unknown version');
  if (!isStr(s.id) || !isNat(s.invocation) || !isStr(s.startedAt)) throw bad('is missing id, invocation or startedAt');
  if (!Array.isArray(s.prefixes) || !s.prefixes.every(isStr)) throw bad('prefixes must be strings');
  if (!isNat(s.prefixIndex) || !isNat(s.position) || !isNat(s.partitionRoots)) throw bad('has a bad cursor');
  if (s.s3Token !== undefined && !isStr(s.s3Token)) throw bad('s3Token must be a string');
  if (s.lastKey !== undefined && !isStr(s.lastKey)) throw bad('lastKey must be a string');
  const r = s.request as Record<string, unknown> | undefined;
  if (!r || !isStr(r.bucket) || !isStr(r.prefix) || typeof r.dryRun !== 'boolean' || typeof r.force !== 'boolean') {
    throw bad('has a bad request');
  }
  const t = s.totals as Record<string, unknown> | undefined;
  if (!t || !Object.keys(emptyTotals()).every((k) => isNat(t[k]))) throw bad('has bad totals');
  // A copy: the caller's payload object must not change as this invocation advances its cursor.
  return structuredClone(s) as unknown as ContinuationState;
}
