/**
 * The auto-ingest engine: what Snowpipe does with the S3 event notifications that reach a pipe's
 * notification channel. It polls an SQS queue (fauxqs locally), maps each created object to the
 * pipes whose stage URL + path cover its key, downloads it with the S3 client and COPYs it
 * (load.ts), skipping files a pipe has already loaded. Files queued for the same pipe are loaded
 * together, up to BATCH_FILES per DuckDB transaction (a small file's cost is mostly its commit); a
 * batch in which any file fails is rolled back and loaded one file at a time, so each file still
 * gets its own outcome (ON_ERROR = SKIP_FILE). A message is deleted only after its files were
 * loaded, failed or parked on a paused pipe, so a crash redelivers it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { decodeS3Key } from './s3-key.ts';
import type { LoadRecord, PipeRuntime, SnowpipeCatalog } from './catalog.ts';
import { loadFile, loadFiles, type ColumnCache, type StagedFile } from './load.ts';
import type { PipeDef, StageDef } from './objects.ts';

export interface SnowpipeOptions {
  s3: S3ClientConfig;
  sqs: SQSClientConfig;
  /** The queue the staging bucket's notifications go to (SHOW PIPES → notification_channel). */
  queueUrl: string;
  queueArn: string;
  /** Pause between empty polls (default 100 ms). */
  pollMs?: number;
  /** Where problems that are not a file's load outcome are reported (default: stderr). */
  log?: (message: string) => void;
}

export interface Snowpipe {
  /** Resolves once every notification sent before the call is handled and nothing is pending (paused pipes aside). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Files of one pipe loaded in one transaction, at most; and at most this many notified bytes. */
const BATCH_FILES = 32;
const BATCH_BYTES = 64 << 20;
/** Receives whose files are still loading, at most; the loop keeps receiving meanwhile so batches fill. */
const RECEIVES_IN_FLIGHT = 10;
/** Downloads in flight at once while preparing a batch. */
const DOWNLOADS = 4;

interface Job {
  pipe: PipeDef;
  bucket: string;
  key: string;
  /** The object's size when the notification (or listing) said it; 0 if unknown. */
  size: number;
  receivedAt: Date;
  done: () => void;
}

interface S3Record {
  eventSource?: string;
  eventName?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number; eTag?: string } };
}

/** `s3://bucket/prefix/` → bucket and key prefix. */
export function parseStageUrl(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  return { bucket: m?.[1] ?? '', prefix: m?.[2] ?? '' };
}

export class SnowpipeEngine implements Snowpipe, PipeRuntime {
  private readonly s3: S3Client;
  private readonly sqs: SQSClient;
  private readonly queue: Job[] = [];
  private readonly parked = new Map<string, Job[]>();
  private running: Job[] = [];
  private working: Promise<void> | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private pollSeq = 0;
  private waiters: Array<{ after: number; resolve: () => void }> = [];
  private wake: (() => void) | null = null;
  private receiveError: string | null = null;
  /** Received messages whose files are not all handled yet (deleted once they are). */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log: (m: string) => void;

  constructor(
    private readonly opts: SnowpipeOptions,
    private readonly catalog: SnowpipeCatalog,
    private readonly conn: DuckDBConnection,
    private readonly onCommit: () => void,
    /** The warehouse's table columns, cleared by every DDL (warehouse.ts). */
    private readonly columnCache: ColumnCache,
  ) {
    this.s3 = new S3Client(opts.s3);
    this.sqs = new SQSClient(opts.sqs);
    this.log = opts.log ?? ((m) => process.stderr.write(`snowflake-local snowpipe: ${m}\n`));
    catalog.notificationChannel = opts.queueArn;
    catalog.runtime = this;
  }

  static async start(
    opts: SnowpipeOptions,
    catalog: SnowpipeCatalog,
    instance: DuckDBInstance,
    onCommit: () => void,
    columnCache: ColumnCache,
  ): Promise<SnowpipeEngine> {
    const engine = new SnowpipeEngine(opts, catalog, await instance.connect(), onCommit, columnCache);
    engine.loop = engine.run();
    return engine;
  }

  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ after: this.pollSeq, resolve });
      this.wake?.();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    // Queued files are not loaded; their messages are not deleted, so they come back on the next start.
    for (const job of this.queue.splice(0)) job.done();
    await this.loop;
    await this.working;
    await Promise.all(this.inFlight);
    this.s3.destroy();
    this.sqs.destroy();
    this.conn.closeSync();
    this.catalog.runtime = null;
    for (const w of this.waiters) w.resolve();
  }

  pending(pipe: PipeDef): number {
    const n = (jobs: Job[]) => jobs.filter((j) => j.pipe.id === pipe.id).length;
    return n(this.queue) + (this.parked.get(pipe.id)?.length ?? 0) + n(this.running);
  }

  resumed(pipe: PipeDef): void {
    const jobs = this.parked.get(pipe.id) ?? [];
    this.parked.delete(pipe.id);
    for (const j of jobs) this.enqueue({ ...j, pipe });
  }

  async refresh(pipe: PipeDef, prefix: string): Promise<Array<[string, string]>> {
    const stage = this.catalog.get('stage', pipe.stage);
    if (!stage) return [];
    const { bucket, prefix: base } = parseStageUrl(stage.url);
    const rows: Array<[string, string]> = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: base + pipe.path + prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/') || this.catalog.isLoaded(pipe, stage.url, o.Key.slice(base.length))) continue;
        rows.push([o.Key.slice(base.length), 'SENT']);
        void this.submit(pipe, bucket, o.Key, new Date(), o.Size ?? 0);
      }
      token = page.NextContinuationToken;
    } while (token);
    return rows;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const seq = ++this.pollSeq;
      let messages: Array<{ Body?: string; ReceiptHandle?: string }> = [];
      try {
        const r = await this.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: this.opts.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        messages = r.Messages ?? [];
        this.receiveError = null;
      } catch (err) {
        if (this.stopped) break;
        // Said once per distinct failure, not once per poll; idle() still resolves (nothing can be read).
        const why = (err as Error).message;
        if (why !== this.receiveError)
          this.log(`receiving from ${this.opts.queueUrl} failed (${why}); retrying. Check that the queue exists.`);
        this.receiveError = why;
      }
      if (messages.length > 0) {
        const handled = Promise.all(messages.map((m) => this.handle(m))).then(() => this.deleteHandled(messages));
        this.inFlight.add(handled);
        void handled.finally(() => this.inFlight.delete(handled));
        if (this.inFlight.size >= RECEIVES_IN_FLIGHT) await Promise.race(this.inFlight);
      }
      if (messages.length === 0 && this.inFlight.size === 0 && this.running.length === 0 && this.queue.length === 0)
        this.settle(seq);
      if (messages.length === 0 && !this.stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.opts.pollMs ?? 100);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }

  /** A poll that started after an idle() call found nothing and no work is left. */
  private settle(seq: number): void {
    const ready = this.waiters.filter((w) => seq > w.after);
    this.waiters = this.waiters.filter((w) => seq <= w.after);
    for (const w of ready) w.resolve();
  }

  private async handle(message: { Body?: string; ReceiptHandle?: string }): Promise<void> {
    let records: S3Record[] = [];
    try {
      const body = JSON.parse(message.Body ?? '') as { Records?: S3Record[]; Event?: string; Message?: string };
      // Through SNS the S3 event is the Message of an SNS envelope.
      const event = typeof body.Message === 'string' ? (JSON.parse(body.Message) as { Records?: S3Record[] }) : body;
      records = event.Records ?? [];
    } catch {
      this.log(`ignored a message that is not an S3 event notification: ${(message.Body ?? '').slice(0, 200)}`);
    }
    const received = new Date();
    const loads: Array<Promise<void>> = [];
    for (const r of records) {
      if (r.eventSource !== 'aws:s3' || !r.eventName?.startsWith('ObjectCreated:')) continue;
      const bucket = r.s3?.bucket?.name;
      const rawKey = r.s3?.object?.key;
      if (!bucket || rawKey === undefined) continue;
      const key = decodeS3Key(rawKey);
      for (const pipe of this.pipesFor(bucket, key))
        loads.push(this.submit(pipe, bucket, key, received, r.s3?.object?.size ?? 0));
    }
    await Promise.all(loads);
  }

  /** Deletes the messages of one receive once all their files are handled: one request for up to 10. */
  private async deleteHandled(messages: Array<{ ReceiptHandle?: string }>): Promise<void> {
    const entries = messages.flatMap((m, i) =>
      m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : [],
    );
    if (entries.length === 0 || this.stopped) return;
    const why = await this.sqs
      .send(new DeleteMessageBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: entries }))
      .then(
        (r) => (r.Failed?.length ? r.Failed.map((f) => f.Message ?? f.Code).join('; ') : null),
        (err: Error) => err.message,
      );
    if (why) this.log(`deleting handled messages failed (${why}); they will be redelivered and skipped.`);
  }

  /** Auto-ingest pipes whose stage URL + path cover s3://bucket/key. */
  private pipesFor(bucket: string, key: string): PipeDef[] {
    return this.catalog.pipes().filter((p) => {
      const stage = this.catalog.get('stage', p.stage);
      if (!p.autoIngest || !stage) return false;
      const s = parseStageUrl(stage.url);
      return s.bucket === bucket && key.startsWith(s.prefix + p.path) && !key.endsWith('/');
    });
  }

  /** Resolves when the file is loaded, failed, skipped or parked on a paused pipe. */
  private submit(pipe: PipeDef, bucket: string, key: string, receivedAt: Date, size: number): Promise<void> {
    return new Promise((done) => this.enqueue({ pipe, bucket, key, size, receivedAt, done }));
  }

  private enqueue(job: Job): void {
    const current = this.catalog.get('pipe', job.pipe) ?? job.pipe;
    if (current.paused) {
      const list = this.parked.get(current.id) ?? [];
      list.push({ ...job, pipe: current });
      this.parked.set(current.id, list);
      job.done();
      return;
    }
    this.queue.push(job);
    // Started a microtask later, so the files of one notification message make one batch.
    this.working ??= Promise.resolve()
      .then(() => this.work())
      .finally(() => {
        this.working = null;
      });
  }

  private async work(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const batch = this.takeBatch();
      this.running = batch;
      try {
        await this.loadBatch(batch);
      } catch (err) {
        this.log(
          `loading ${batch.length} file(s) for pipe ${batch[0]!.pipe.name} failed unexpectedly: ${(err as Error).message}`,
        );
      } finally {
        this.running = [];
        for (const job of batch) job.done();
      }
    }
  }

  /** The first queued job and the queued jobs of the same pipe after it, within the batch limits. */
  private takeBatch(): Job[] {
    const first = this.queue.shift()!;
    const batch = [first];
    let bytes = first.size;
    for (let i = 0; i < this.queue.length && batch.length < BATCH_FILES; ) {
      const job = this.queue[i]!;
      if (job.pipe.id !== first.pipe.id || bytes + job.size > BATCH_BYTES) {
        i++;
        continue;
      }
      bytes += job.size;
      batch.push(job);
      this.queue.splice(i, 1);
    }
    return batch;
  }

  private async loadBatch(jobs: Job[]): Promise<void> {
    const pipe = this.catalog.get('pipe', jobs[0]!.pipe);
    const stage = pipe && this.catalog.get('stage', pipe.stage);
    if (!pipe || pipe.id !== jobs[0]!.pipe.id || !stage) return; // dropped or replaced meanwhile
    if (pipe.paused) {
      for (const job of jobs) this.enqueue(job);
      return;
    }
    const prefix = parseStageUrl(stage.url).prefix;
    // A file already loaded, or named twice in this batch (a repeated notification), loads once.
    const names = new Set<string>();
    const todo = jobs.filter((job) => {
      const fileName = job.key.slice(prefix.length);
      if (names.has(fileName) || this.catalog.isLoaded(pipe, stage.url, fileName)) return false;
      names.add(fileName);
      return true;
    });
    const files = await this.downloadAll(todo, stage, prefix);
    try {
      const format = this.catalog.formatOptions(pipe);
      const record = (r: LoadRecord) => this.catalog.record(pipe, r, this.conn);
      const readable = files.filter((f): f is StagedFile => !('error' in f));
      let recs: LoadRecord[] | null =
        format && readable.length > 1
          ? await loadFiles(this.conn, pipe, format, readable, record, this.columnCache)
          : null;
      if (!recs) {
        recs = [];
        for (const file of files) {
          if (!format)
            recs.push(
              await this.recordFailed(
                pipe,
                file,
                "The pipe's file format no longer exists (STOPPED_FILE_FORMAT_DROPPED); recreate it.",
              ),
            );
          else if ('error' in file) recs.push(await this.recordFailed(pipe, file, file.error));
          else recs.push(await loadFile(this.conn, pipe, format, file, record, this.columnCache));
        }
      } else {
        // The batch committed; files that could not be read still get their "Load failed" row.
        for (const file of files) if ('error' in file) recs.push(await this.recordFailed(pipe, file, file.error));
      }
      for (const rec of recs) this.catalog.committed(pipe, rec);
      this.onCommit();
    } finally {
      await Promise.all(files.map((f) => ('error' in f ? undefined : fs.rm(f.localPath, { force: true }))));
    }
  }

  private async recordFailed(pipe: PipeDef, file: Parameters<typeof failed>[0], message: string): Promise<LoadRecord> {
    const rec = failed(file, message);
    await this.catalog.record(pipe, rec);
    return rec;
  }

  /** Downloads the jobs' files, DOWNLOADS at a time, in job order. */
  private async downloadAll(
    jobs: Job[],
    stage: StageDef,
    prefix: string,
  ): Promise<Array<Awaited<ReturnType<SnowpipeEngine['download']>>>> {
    const out: Array<Awaited<ReturnType<SnowpipeEngine['download']>>> = new Array(jobs.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < jobs.length; i = next++)
        out[i] = await this.download(jobs[i]!, stage, jobs[i]!.key.slice(prefix.length));
    };
    await Promise.all(Array.from({ length: Math.min(DOWNLOADS, jobs.length) }, worker));
    return out;
  }

  private async download(
    job: Job,
    stage: StageDef,
    fileName: string,
  ): Promise<StagedFile | (Omit<StagedFile, 'localPath' | 'body'> & { error: string })> {
    const base = { fileName, stageLocation: stage.url, receivedAt: job.receivedAt };
    try {
      const obj = await this.s3.send(new GetObjectCommand({ Bucket: job.bucket, Key: job.key }));
      const body = await obj.Body!.transformToByteArray();
      const gz = body[0] === 0x1f && body[1] === 0x8b;
      const localPath = path.join(os.tmpdir(), `snowflake-local-snowpipe-${randomUUID()}.csv${gz ? '.gz' : ''}`);
      await fs.writeFile(localPath, body);
      const etag = obj.ETag?.replace(/"/g, '') ?? null;
      return { ...base, localPath, body, size: body.length, lastModified: obj.LastModified ?? null, etag };
    } catch (err) {
      return {
        ...base,
        size: 0,
        lastModified: null,
        etag: null,
        error: `Remote file 's3://${job.bucket}/${job.key}' could not be read: ${(err as Error).message}`,
      };
    }
  }
}

function failed(
  file: { fileName: string; stageLocation: string; size: number; receivedAt: Date },
  message: string,
): LoadRecord {
  return {
    fileName: file.fileName,
    stageLocation: file.stageLocation,
    fileSize: file.size,
    pipeReceivedTime: file.receivedAt.toISOString(),
    lastLoadTime: new Date().toISOString(),
    rowCount: 0,
    rowParsed: 0,
    firstError: { message, line: null, column: null },
    errorCount: 1,
    status: 'Load failed',
  };
}
