/**
 * The `insert` load method as a sink: one Snowflake session per batch, the Loader's transactions
 * (ledger claim + array-bind INSERTs, see loader.ts), and the deadline guard those transactions need.
 */
import type { ParsedLine } from '../access-log/index.ts';
import type { LoadMode } from '../config.ts';
import { Session, type ConnectionProvider, type Lease } from './connection.ts';
import {
  ledgerId,
  Loader,
  overwrittenError,
  verdict,
  type BufferedObject,
  type ClaimResult,
  type LoadTarget,
  type ObjectCounts,
} from './loader.ts';
import type { Precheck, Sink, SinkStats } from './sink.ts';

/**
 * How long an ingest session waits for another transaction's lock on the ledger (Snowflake's
 * default is 12 h). A claim stuck behind a dead session then fails and SQS redelivers the message.
 */
export const LOCK_TIMEOUT_SECONDS = 120;
/**
 * A retry or streamed transaction is only started with at least this much time left before the
 * Lambda timeout: enough for its claim to wait out a full LOCK_TIMEOUT and still commit. (Were it
 * to run out of time anyway, the deadline cancels it and drops the session: it never commits late.)
 */
export const TRANSACTION_TIME_RESERVE_MS = (LOCK_TIMEOUT_SECONDS + 30) * 1000;
/**
 * Every statement must end this long before the Lambda timeout: one still running then is
 * cancelled and the connection dropped (Session.deadline), which ends the session and rolls its
 * transaction back while the function is still alive to do it.
 */
export const DEADLINE_MARGIN_MS = 5_000;

export interface InsertSinkOptions {
  connections: ConnectionProvider;
  mode: LoadMode;
  chunkRows: number;
  loadedAt: string;
  /** Milliseconds until the Lambda times out; absent = no limit. */
  remainingMs?: () => number;
}

export class InsertSink implements Sink {
  readonly method = 'insert' as const;
  readonly buffers = true;
  /** Streamed objects each hold a transaction (and the ledger lock): one at a time. */
  readonly streamConcurrency = 1;
  private lease?: Lease;
  private session?: Session;
  private loader?: Loader;
  private transactions = 0;
  private earlierRoundTrips = 0;
  private sessionsDropped = 0;

  constructor(private readonly options: InsertSinkOptions) {}

  async open(): Promise<void> {
    await this.connect();
  }

  /**
   * A session of its own (a lease): a concurrent batch sharing the provider can never end this
   * transaction. Its statements end before the invocation's deadline (Session.deadline).
   */
  private async connect(): Promise<void> {
    const { connections, mode, chunkRows, loadedAt } = this.options;
    if (this.session) this.earlierRoundTrips += 1 + this.session.roundTrips;
    this.lease = await connections.lease();
    this.session = new Session(this.lease.connection);
    const left = this.options.remainingMs?.();
    if (left !== undefined) this.session.deadline = Date.now() + left - DEADLINE_MARGIN_MS;
    this.loader = new Loader(this.session, { mode, chunkRows, loadedAt });
  }

  /**
   * The loader, on a session in a known state: after a failed ROLLBACK (or a statement cut at the
   * deadline) the session is dropped, which ends its transaction, and the next load gets a new one,
   * so one failed ROLLBACK fails one load, not the rest of the batch.
   */
  private async ready(): Promise<Loader> {
    if (!this.loader || !this.session) throw new Error('InsertSink used before open()');
    if (this.session.broken) {
      await this.lease?.discard().catch(() => {});
      this.sessionsDropped++;
      await this.connect();
    }
    return this.loader!;
  }

  async check(targets: LoadTarget[]): Promise<Map<string, Precheck>> {
    const done = await (await this.ready()).alreadyLoaded(targets);
    const out = new Map<string, Precheck>();
    for (const t of targets) {
      const id = ledgerId(t);
      if (!done.has(id)) continue;
      const etag = done.get(id);
      out.set(
        id,
        verdict(t, etag) === 'overwritten'
          ? { kind: 'failed', reason: 'overwritten', error: overwrittenError(t, etag) }
          : { kind: 'duplicate' },
      );
    }
    return out;
  }

  async loadBuffered(objects: BufferedObject[]): Promise<Map<string, ClaimResult>> {
    const results = await (await this.ready()).loadBuffered(objects);
    this.transactions++;
    return results;
  }

  async loadStreamed(
    target: LoadTarget,
    lines: AsyncIterable<ParsedLine>,
    bytes: () => number,
  ): Promise<{ result: ClaimResult; counts: ObjectCounts }> {
    const out = await (await this.ready()).loadStreamed(target, lines, bytes);
    if (out.result === 'loaded') this.transactions++;
    return out;
  }

  cannotStart(): string | undefined {
    const left = this.options.remainingMs?.();
    if (left !== undefined && left < TRANSACTION_TIME_RESERVE_MS)
      return `only ${Math.round(left / 1000)} s left before the Lambda timeout`;
    return undefined;
  }

  stats(): SinkStats {
    // The connection check (heartbeat or login) is one round-trip.
    const roundTrips = this.earlierRoundTrips + (this.session ? 1 + this.session.roundTrips : 0);
    return { roundTrips, transactions: this.transactions, filesStaged: 0 };
  }

  async close(): Promise<string | undefined> {
    const dropped = this.sessionsDropped + (this.session?.broken ? 1 : 0);
    if (this.session?.broken) await this.lease?.discard().catch(() => {});
    else this.lease?.release();
    return dropped === 0
      ? undefined
      : `Dropped ${dropped} Snowflake connection(s): a ROLLBACK failed or a statement hit the deadline, so its transaction state was unknown`;
  }
}
