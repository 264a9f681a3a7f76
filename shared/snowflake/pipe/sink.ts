/**
 * The `pipe` load method: each log object becomes staged gzip CSV files that Snowpipe loads
 * (auto-ingest from the staging bucket's S3 events). No Snowflake session, no warehouse.
 *
 * Exactly-once, per object (names in staged-files.ts):
 * 1. HEAD its manifest. Present with the event's ETag: loaded already, acknowledged without reading
 *    the object. Present with another ETag: the key was overwritten after it loaded; the message
 *    fails loudly (never acknowledging new lines unseen). Absent: go on.
 * 2. Stream the object's lines into its rows/rejects (or raw) files, then, LAST, PUT the manifest.
 * A redelivery or a concurrent delivery rewrites the same names with the same bytes; Snowpipe's
 * per-pipe load history skips a file name it has loaded, so a crash between two files, followed by
 * a redelivery, loads every file once. That history lasts 14 days; the staging prefix expires
 * files after that, and replays older than that go through the ledger (backfill checks it).
 *
 * Forced replays (replace an object's rows) cannot be done by rewriting files Snowpipe has loaded:
 * they go through the `insert` sink when Snowflake credentials are configured, and fail otherwise;
 * after one, the object's staged files are restamped with the replayed version's ETag.
 */
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import type { ParsedLine } from '../../access-log/index.ts';
import type { LoadMode, StagingLocation } from '../../config.ts';
import { s3ErrorCode } from '../../s3/objects.ts';
import { TRANSACTION_TIME_RESERVE_MS } from '../insert-sink.ts';
import { ledgerId, type BufferedObject, type ClaimResult, type LoadTarget, type ObjectCounts } from '../loader.ts';
import type { Precheck, Sink, SinkStats } from '../sink.ts';
import { StagedFile } from './staged-file.ts';
import { manifestRecord, RecordWriter, stagedNames, type StagedNames } from './staged-files.ts';

/** An object is only started with this much time left: a Lambda killed mid-write wastes the work. */
export const PIPE_TIME_RESERVE_MS = 30_000;
/** HEAD requests in flight at once while checking a batch. */
const HEAD_CONCURRENCY = 8;

export interface PipeSinkOptions {
  s3: S3Client;
  staging: StagingLocation;
  mode: LoadMode;
  /** The sink forced replays go through (`insert`), if Snowflake credentials are configured. */
  forced?: () => Sink;
  remainingMs?: () => number;
}

type Head = { exists: false } | { exists: true; etag: string | undefined };

export class PipeSink implements Sink {
  readonly method = 'pipe' as const;
  /** Every object streams straight to S3: nothing to gain from holding rows in memory. */
  readonly buffers = false;
  readonly streamConcurrency = 4;
  private filesStaged = 0;
  private forcedSink?: Promise<Sink>;
  /** The forced-replay sink once it opened. */
  private opened?: Sink;
  /** Settles when the forced load before this one has finished. */
  private forcedTurn: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PipeSinkOptions) {}

  async open(): Promise<void> {}

  async check(targets: LoadTarget[]): Promise<Map<string, Precheck>> {
    const verdicts = new Map<string, Precheck>();
    const queue = [...targets];
    const worker = async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const verdict = await this.checkOne(t).catch(
          (err: unknown): Precheck => ({ kind: 'failed', reason: 'error', error: err as Error }),
        );
        if (verdict) verdicts.set(ledgerId(t), verdict);
      }
    };
    await Promise.all(Array.from({ length: Math.min(HEAD_CONCURRENCY, queue.length) }, worker));
    return verdicts;
  }

  private async checkOne(t: LoadTarget): Promise<Precheck | undefined> {
    const names = this.names(t);
    // The first data file too: a crash before the manifest may have left an earlier version's rows.
    const [manifest, data] = await Promise.all([this.head(names.manifest), this.head(names.data[0]!.key)]);
    for (const [found, what] of [
      [manifest, 'manifest'],
      [data, 'staged rows'],
    ] as const) {
      if (!found.exists || !t.etag || found.etag === undefined || found.etag === t.etag) continue;
      return { kind: 'failed', reason: 'overwritten', error: overwritten(t, found.etag, what) };
    }
    return manifest.exists ? { kind: 'duplicate' } : undefined;
  }

  loadBuffered(_objects: BufferedObject[]): Promise<Map<string, ClaimResult>> {
    return Promise.reject(new Error('the pipe sink streams every object; loadBuffered is not used'));
  }

  async loadStreamed(
    target: LoadTarget,
    lines: AsyncIterable<ParsedLine>,
    bytes: () => number,
  ): Promise<{ result: ClaimResult; counts: ObjectCounts }> {
    if (target.force) {
      // One transaction at a time: the insert sink has one Snowflake session, and objects stream
      // here four at a time.
      const run = this.forcedTurn.then(async () => {
        const loaded = await (await this.forced(target)).loadStreamed(target, lines, bytes);
        if (loaded.result === 'loaded') await this.restamp(target);
        return loaded;
      });
      this.forcedTurn = run.catch(() => undefined);
      return run;
    }
    const { s3, staging, mode } = this.options;
    const names = this.names(target);
    const metadata: Record<string, string> = target.etag ? { etag: target.etag } : {};
    const files = names.data.map((d) => new StagedFile(s3, staging.bucket, d.key, metadata));
    const started = performance.now();
    let counts: ObjectCounts;
    try {
      counts = await this.writeLines(target, lines, files);
      await Promise.all(files.map((f) => f.end()));
    } catch (err) {
      await Promise.all(files.map((f) => f.abort()));
      throw err;
    }
    this.filesStaged += files.length;
    counts.bytes = bytes();
    const record = manifestRecord({
      bucket: target.bucket,
      key: target.key,
      ...(target.etag ? { etag: target.etag } : {}),
      ...(target.sequencer ? { sequencer: target.sequencer } : {}),
      ...(target.replayId ? { replayId: target.replayId } : {}),
      bytes: counts.bytes,
      lines: counts.lines,
      rows: counts.rows,
      rejects: counts.rejects,
      mode,
      parseMs: performance.now() - started,
    });
    // Written last: its presence means every data file of the object is staged.
    await s3.send(
      new PutObjectCommand({
        Bucket: staging.bucket,
        Key: names.manifest,
        Body: gzipSync(record),
        ContentType: 'application/gzip',
        Metadata: metadata,
      }),
    );
    this.filesStaged++;
    return { result: 'loaded', counts };
  }

  /** Lines → records into the object's files (rows, rejects | raw); returns the counts. */
  private async writeLines(
    target: LoadTarget,
    lines: AsyncIterable<ParsedLine>,
    files: StagedFile[],
  ): Promise<ObjectCounts> {
    const counts: ObjectCounts = { bytes: 0, lines: 0, rows: 0, rejects: 0 };
    const records = new RecordWriter(target.bucket, target.key);
    const raw = this.options.mode === 'raw';
    const [main, rejects] = files as [StagedFile, StagedFile | undefined];
    for await (const line of lines) {
      counts.lines++;
      const r = line.result;
      if (r.ok) {
        const t = r.row.requestdatetime;
        // ISO instants of one shape: string order is time order.
        if (counts.newestRequest === undefined || t > counts.newestRequest) counts.newestRequest = t;
      }
      // Synchronous appends; a promise only when a file has text worth handing on.
      if (raw) {
        counts.rows++;
        if (main.append(records.raw(line))) await main.flush();
      } else if (r.ok) {
        counts.rows++;
        if (main.append(records.row(line as ParsedLine & { result: typeof r }))) await main.flush();
      } else {
        counts.rejects++;
        if (rejects!.append(records.reject(line, r.reason))) await rejects!.flush();
      }
    }
    return counts;
  }

  /**
   * After a forced replay replaced an object's rows (through insert): its staged files, if any, now
   * carry the new ETag, so later events for this version are duplicates instead of "overwritten"
   * (which would fail them into the DLQ). A copy onto itself with new metadata, data files first and
   * the manifest last; Snowpipe skips the copies (their names are in its load history). A failure
   * fails the message: its redelivery replays (idempotently) and restamps again.
   */
  private async restamp(target: LoadTarget): Promise<void> {
    if (!target.etag) return;
    const { s3, staging } = this.options;
    const names = this.names(target);
    for (const key of [...names.data.map((d) => d.key), names.manifest]) {
      const found = await this.head(key);
      if (!found.exists || found.etag === target.etag) continue;
      await s3.send(
        new CopyObjectCommand({
          Bucket: staging.bucket,
          Key: key,
          CopySource: `${staging.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'REPLACE',
          Metadata: { etag: target.etag },
          ContentType: 'application/gzip',
        }),
      );
    }
  }

  cannotStart(target: LoadTarget): string | undefined {
    if (target.force && this.opened) return this.opened.cannotStart(target);
    const left = this.options.remainingMs?.();
    const reserve = target.force ? TRANSACTION_TIME_RESERVE_MS : PIPE_TIME_RESERVE_MS;
    if (left !== undefined && left < reserve) return `only ${Math.round(left / 1000)} s left before the Lambda timeout`;
    return undefined;
  }

  stats(): SinkStats {
    const forced = this.opened?.stats();
    return {
      roundTrips: forced?.roundTrips ?? 0,
      transactions: forced?.transactions ?? 0,
      filesStaged: this.filesStaged + (forced?.filesStaged ?? 0),
    };
  }

  async close(): Promise<string | undefined> {
    return this.opened?.close();
  }

  private names(t: LoadTarget): StagedNames {
    return stagedNames(this.options.staging.prefix, t.bucket, t.key, this.options.mode);
  }

  private async head(key: string): Promise<Head> {
    try {
      const r = await this.options.s3.send(new HeadObjectCommand({ Bucket: this.options.staging.bucket, Key: key }));
      return { exists: true, etag: r.Metadata?.etag };
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || s3ErrorCode(err) === 'NotFound' || s3ErrorCode(err) === 'NoSuchKey')
        return { exists: false };
      throw err;
    }
  }

  /** The insert sink, opened on the first forced replay of the batch. */
  private forced(target: LoadTarget): Promise<Sink> {
    const make = this.options.forced;
    if (!make)
      return Promise.reject(
        new Error(
          `Forced replay of s3://${target.bucket}/${target.key} cannot be loaded by the pipe method (Snowpipe skips file names it has loaded, so rewriting them replaces nothing); ` +
            'configure Snowflake credentials (SNOWFLAKE_SECRET_ARN) so forced replays go through insert, or replay without force.',
        ),
      );
    this.forcedSink ??= (async () => {
      const sink = make();
      await sink.open();
      this.opened = sink;
      return sink;
    })();
    // A failed open fails this object; the next forced one tries again.
    this.forcedSink.catch(() => (this.forcedSink = undefined));
    return this.forcedSink;
  }
}

function overwritten(t: LoadTarget, stagedEtag: string, what: string): Error {
  return new Error(
    `s3://${t.bucket}/${t.key} was overwritten after it was staged: its ${what} carry ETag ${stagedEtag} but this event announces ETag ${t.etag}, ` +
      'so its new lines are not loaded; to replace the loaded rows with the new version, replay the key with force (backfill --force), which runs through the insert method and so needs Snowflake credentials.',
  );
}
