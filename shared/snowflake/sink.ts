/**
 * The load method, as the batch logic sees it: a sink that takes parsed log objects.
 *
 * functions/ingest (process-batch.ts and its stages) owns everything the two methods share (event envelopes,
 * allow-lists, dedup within a batch, the memory budget, `batchItemFailures`, the deadline guard's
 * placement); a sink owns only where an object's lines go and how it stays exactly-once:
 * - `insert` (insert-sink.ts): rows, rejects and the ledger claim in one Snowflake transaction;
 * - `pipe` (pipe/sink.ts): staged gzip CSV files plus a manifest, loaded by Snowpipe.
 */
import type { ParsedLine } from '../access-log/index.ts';
import type { BufferedObject, ClaimResult, LoadTarget, ObjectCounts } from './loader.ts';

export type { BufferedObject, ClaimResult, LoadTarget, ObjectCounts };

export type LoadMethod = 'pipe' | 'insert';

/** What a sink knows about an object before it is read. */
export type Precheck =
  /** Loaded already: acknowledge without reading it. */
  | { kind: 'duplicate' }
  /** Must not be loaded now; `overwritten` = the key holds other bytes than the ones loaded. */
  | { kind: 'failed'; reason: 'overwritten' | 'error'; error: Error };

export interface SinkStats {
  /** Snowflake statements sent, including connection validation. */
  roundTrips: number;
  /** Transactions committed. */
  transactions: number;
  /** Staged files written (pipe). */
  filesStaged: number;
}

export interface Sink {
  readonly method: LoadMethod;
  /**
   * Whether small objects are read fully into memory (within the batch's memory budget) and handed
   * over together (`loadBuffered`). Otherwise every object is streamed through `loadStreamed`.
   */
  readonly buffers: boolean;
  /** Streamed objects in flight at once. */
  readonly streamConcurrency: number;
  /** Called once per batch that has objects to load, before anything else; a throw fails them all. */
  open(): Promise<void>;
  /**
   * Advisory look-up before reading, keyed by `ledgerId`: objects absent from the map are read and
   * loaded. A throw means "no information" (the load itself still guarantees exactly-once).
   */
  check(targets: LoadTarget[]): Promise<Map<string, Precheck>>;
  /** Many buffered objects at once; per ledger id, whether this delivery loaded it. */
  loadBuffered(objects: BufferedObject[]): Promise<Map<string, ClaimResult>>;
  /** One object from its parsed-line stream; `bytes()` is the source bytes read so far. */
  loadStreamed(
    target: LoadTarget,
    lines: AsyncIterable<ParsedLine>,
    bytes: () => number,
  ): Promise<{ result: ClaimResult; counts: ObjectCounts }>;
  /** Why no further load of this target may start in this invocation, if so. */
  cannotStart(target: LoadTarget): string | undefined;
  stats(): SinkStats;
  /** Ends the batch (e.g. drops a connection left in an unknown state); returns a warning to log, if any. Never throws. */
  close(): Promise<string | undefined>;
}
