/**
 * The auto-ingest engine: what Snowpipe does with the S3 event notifications that reach a pipe's
 * notification channel. It polls an SQS queue (fauxqs locally), maps each created object to the
 * pipes whose stage URL + path cover its key, downloads it with the S3 client and COPYs it
 * (load.ts), one file at a time, skipping files a pipe has already loaded. A message is deleted
 * only after its files were loaded, failed or parked on a paused pipe, so a crash redelivers it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { decodeS3Key } from '../../../shared/s3/events.ts';
import type { LoadRecord, PipeRuntime, SnowpipeCatalog } from './catalog.ts';
import { loadFile, type ColumnCache, type StagedFile } from './load.ts';
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

interface Job {
  pipe: PipeDef;
  bucket: string;
  key: string;
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
  private running: Job | null = null;
  private working: Promise<void> | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private pollSeq = 0;
  private waiters: Array<{ after: number; resolve: () => void }> = [];
  private wake: (() => void) | null = null;
  private receiveError: string | null = null;
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
    this.s3.destroy();
    this.sqs.destroy();
    this.conn.closeSync();
    this.catalog.runtime = null;
    for (const w of this.waiters) w.resolve();
  }

  pending(pipe: PipeDef): number {
    const n = (jobs: Job[]) => jobs.filter((j) => j.pipe.id === pipe.id).length;
    return n(this.queue) + (this.parked.get(pipe.id)?.length ?? 0) + (this.running?.pipe.id === pipe.id ? 1 : 0);
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
        void this.submit(pipe, bucket, o.Key, new Date());
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
      await Promise.all(messages.map((m) => this.handle(m)));
      if (messages.length === 0 && !this.running && this.queue.length === 0) this.settle(seq);
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
      for (const pipe of this.pipesFor(bucket, key)) loads.push(this.submit(pipe, bucket, key, received));
    }
    await Promise.all(loads);
    if (message.ReceiptHandle && !this.stopped) {
      await this.sqs
        .send(new DeleteMessageCommand({ QueueUrl: this.opts.queueUrl, ReceiptHandle: message.ReceiptHandle }))
        .catch((err: Error) => {
          this.log(`deleting a handled message failed (${err.message}); it will be redelivered and skipped.`);
        });
    }
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
  private submit(pipe: PipeDef, bucket: string, key: string, receivedAt: Date): Promise<void> {
    return new Promise((done) => this.enqueue({ pipe, bucket, key, receivedAt, done }));
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
    this.working ??= this.work().finally(() => {
      this.working = null;
    });
  }

  private async work(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const job = this.queue.shift()!;
      this.running = job;
      try {
        await this.loadOne(job);
      } catch (err) {
        this.log(
          `loading s3://${job.bucket}/${job.key} for pipe ${job.pipe.name} failed unexpectedly: ${(err as Error).message}`,
        );
      } finally {
        this.running = null;
        job.done();
      }
    }
  }

  private async loadOne(job: Job): Promise<void> {
    const pipe = this.catalog.get('pipe', job.pipe);
    const stage = pipe && this.catalog.get('stage', pipe.stage);
    if (!pipe || pipe.id !== job.pipe.id || !stage) return; // dropped or replaced meanwhile
    if (pipe.paused) {
      this.enqueue(job);
      return;
    }
    const fileName = job.key.slice(parseStageUrl(stage.url).prefix.length);
    if (this.catalog.isLoaded(pipe, stage.url, fileName)) return;
    const format = this.catalog.formatOptions(pipe);
    const file = await this.download(job, stage, fileName);
    try {
      let rec: LoadRecord;
      if (!format)
        rec = failed(file, "The pipe's file format no longer exists (STOPPED_FILE_FORMAT_DROPPED); recreate it.");
      else if ('error' in file) rec = failed(file, file.error);
      else
        rec = await loadFile(
          this.conn,
          pipe,
          format,
          file,
          (r) => this.catalog.record(pipe, r, this.conn),
          this.columnCache,
        );
      if (!format || 'error' in file) await this.catalog.record(pipe, rec);
      this.catalog.committed(pipe, rec);
      this.onCommit();
    } finally {
      if (!('error' in file)) await fs.rm(file.localPath, { force: true });
    }
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
