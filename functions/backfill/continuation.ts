/**
 * The state a backfill hands to its next invocation. It travels inside the async Invoke payload
 * (256 KB limit), so it holds only the remaining listing plan, a cursor and the running totals.
 *
 * The cursor is (prefix index, the S3 ContinuationToken that fetched the current page, position
 * within that page). Re-fetching a page with the same token returns the same keys (S3 tokens
 * encode where the listing stands), so a retried or continued invocation resumes exactly at the
 * first object not yet handled.
 */
import * as z from 'zod/mini';
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

const count = z.int().check(z.minimum(0));
const text = z.string();
// Any instant Date can read, written by toISOString: a range ending near 9999-12-31 plus padding is
// written with an expanded year (+010000-…), which z.iso.datetime() would refuse at the hand-over.
const instant = z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s))));

/** The continuation as this function writes it; anything else was tampered with or is foreign. */
const stateSchema = z.object({
  v: z.literal(1),
  id: text,
  invocation: count,
  startedAt: text,
  request: z.object({
    bucket: text,
    prefix: text,
    from: z.optional(instant),
    to: z.optional(instant),
    dryRun: z.boolean(),
    force: z.boolean(),
    maxObjects: z.optional(z.int().check(z.minimum(1))),
  }),
  window: z.optional(z.object({ from: instant, to: instant })),
  prefixes: z.array(text),
  partitionRoots: count,
  prefixIndex: count,
  s3Token: z.optional(text),
  position: count,
  lastKey: z.optional(text),
  totals: z.object({
    listed: count,
    selected: count,
    alreadyLoaded: count,
    enqueued: count,
    ignored: count,
    listCalls: count,
  }),
});

/** What a bad top-level field of the state is, in words. */
const PART: Record<string, string> = {
  v: 'an unknown version',
  id: 'a bad id, invocation or startedAt',
  invocation: 'a bad id, invocation or startedAt',
  startedAt: 'a bad id, invocation or startedAt',
  request: 'a bad request',
  window: 'a bad window',
  prefixes: 'bad prefixes',
  partitionRoots: 'a bad cursor',
  prefixIndex: 'a bad cursor',
  s3Token: 'a bad cursor',
  position: 'a bad cursor',
  lastKey: 'a bad cursor',
  totals: 'bad totals',
};

/** Checks a continuation that came in a payload; it is internal, but still input. */
export function decodeState(value: unknown): ContinuationState {
  const bad = (what: string) =>
    new BackfillRequestError('continuation', `${what}; this field is set by the function itself, do not pass it`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('must be an object');
  const parsed = stateSchema.safeParse(value);
  if (parsed.success) {
    // The parsed value is a copy: the caller's payload must not change as this invocation advances its cursor.
    return parsed.data;
  }
  const byPart = new Map<string, string[]>();
  for (const issue of parsed.error.issues) {
    const part = PART[String(issue.path[0])] ?? 'a bad field';
    byPart.set(part, [...(byPart.get(part) ?? []), issue.path.join('.')]);
  }
  throw bad(`has ${[...byPart].map(([part, paths]) => `${part} (${paths.join(', ')})`).join(', ')}`);
}

/**
 * The state a continuation payload carries, for this invocation (the next one). A continuation is
 * the whole payload: anything beside it would be ignored, so it is refused.
 */
export function resumeState(payload: Record<string, unknown>): ContinuationState {
  const extra = Object.keys(payload).filter((k) => k !== 'continuation');
  if (extra.length > 0) {
    throw new BackfillRequestError(extra.map((field) => ({ field, message: 'cannot be combined with continuation' })));
  }
  const state = decodeState(payload.continuation);
  state.invocation += 1;
  return state;
}

/** Moves the cursor past handled objects of the current page. */
export function advance(state: ContinuationState, handledKeys: string[]): void {
  state.position += handledKeys.length;
  if (handledKeys.length > 0) state.lastKey = handledKeys[handledKeys.length - 1];
}

/** Moves the cursor to the next page: the same prefix's, or the next prefix when this one ended. */
export function nextPage(state: ContinuationState, nextToken: string | undefined): void {
  state.position = 0;
  if (nextToken) {
    state.s3Token = nextToken;
    return;
  }
  delete state.s3Token;
  delete state.lastKey;
  state.prefixIndex++;
}
