/**
 * What a running local stack does on request: load objects (upload, wait until every one is
 * loaded, skipped or dead-lettered, summarise), wait until it is idle, and run the investigation
 * queries. local/stack.ts starts the parts; these steps only use them.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { LoadMethod } from '../shared/config.ts';
import { execute, type ConnectionProvider } from '../shared/snowflake/connection.ts';
import { REPO_ROOT } from '../shared/snowflake/sql-files.ts';
import { bindParams, loadSqlTemplates } from '../shared/snowflake/sql-params.ts';
import type { BatchSummary } from '../functions/ingest/observability.ts';
import type { AwsLocal } from './aws.ts';
import type { Bridge } from './bridge.ts';
import { listLogFiles, reason } from './log-files.ts';
import { pipeLoads, type PipeLoads } from './pipe-loads.ts';
import type { Poller } from './poller.ts';
import { generateSample, type SampleOptions } from './sample/index.ts';
import { StackError } from './stack-info.ts';

export type LoadSource = { kind: 'sample'; options?: SampleOptions } | { kind: 'dir'; dir: string };

export interface LoadSummary {
  /** Objects uploaded this run. */
  uploaded: number;
  /** Objects loaded by this run. */
  objects: number;
  rows: number;
  rejects: number;
  /** Objects the ingest skipped (already loaded, outside the allowed prefixes, gone). */
  skipped: number;
  /** Messages in the DLQ. */
  dlq: number;
  ms: number;
  method: LoadMethod;
  /** `pipe`: staged files Snowpipe loaded and failed during this load (failed ones listed). */
  files?: { loaded: number; failed: number; failures: PipeLoads['failures'] };
}

export interface QueryResult {
  file: string;
  name: string;
  columns: string[];
  rows: Array<Record<string, unknown>>;
  ms: number;
}

/** What the ingest reported so far, summed over every batch. */
export interface Totals {
  objects: number;
  rows: number;
  rejects: number;
  skipped: number;
}

/** The running parts these steps work with. */
export interface Running {
  aws: AwsLocal;
  /** Waits until snowflake-local's Snowpipe has handled every announcement it received. */
  snowpipeIdle(): Promise<void>;
  connections: ConnectionProvider;
  logBucket: string;
  logPrefix: string;
  queueUrl: string;
  dlqUrl: string;
  loadMethod: LoadMethod;
  /** Announces log objects on the ingest queue. */
  bridge: Bridge;
  /** Announces staged files to the pipes. */
  pipeBridge: Bridge;
  poller: Poller;
  totals: Totals;
}

type UploadObject = { key: string; body: Buffer | string };

export function emptyTotals(): Totals {
  return { objects: 0, rows: 0, rejects: 0, skipped: 0 };
}

export function addBatch(totals: Totals, s: BatchSummary): void {
  totals.objects += s.objectsLoaded;
  totals.rows += s.rows;
  totals.rejects += s.rejects;
  totals.skipped += Object.values(s.skipped).reduce((a, b) => a + b, 0);
}

/** Messages in a queue: ready, in flight and delayed. */
export async function queueDepth(aws: AwsLocal, url: string): Promise<number> {
  const out = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Every staged file announced, then every announcement handled by the pipes. */
async function pipesIdle(run: Running): Promise<void> {
  await run.pipeBridge.kick();
  await run.snowpipeIdle();
}

/** Waits until the ingest queue is empty and, in `pipe`, every staged file is announced and handled. */
export async function settle(run: Running): Promise<void> {
  while ((await queueDepth(run.aws, run.queueUrl)) > 0) await sleep(100);
  await pipesIdle(run);
}

async function collect(run: Running, source: LoadSource): Promise<UploadObject[]> {
  if (source.kind === 'sample')
    return generateSample({ ...source.options, prefix: run.logPrefix }).objects.map((o) => ({
      key: o.key,
      body: o.body,
    }));
  const objects: UploadObject[] = [];
  for (const file of listLogFiles(source.dir)) {
    const rel = path.relative(source.dir, file).split(path.sep).join('/');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (err) {
      throw new StackError(`cannot read ${file}: ${reason(err)}.`);
    }
    objects.push({ key: `${run.logPrefix}${rel}`, body });
  }
  return objects;
}

/** A few uploads at a time, while the pipeline already ingests: S3 delivers logs as a trickle. */
async function upload(run: Running, objects: UploadObject[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const o = objects[next++]!;
      await run.aws.s3.send(new PutObjectCommand({ Bucket: run.logBucket, Key: o.key, Body: o.body }));
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  await run.bridge.kick();
}

/**
 * Uploads while watching the queue. Done when every object is uploaded and announced and the queue
 * is empty: each message was then either deleted by the poller (loaded or skipped) or moved to the DLQ.
 */
async function uploadAndWait(
  run: Running,
  objects: UploadObject[],
  before: { sent: number; dlq: number; deleted: number },
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const uploaded = objects.length;
  let uploadError: unknown;
  let uploadDone = false;
  const uploading = upload(run, objects).then(
    () => (uploadDone = true),
    (err) => (uploadError = err ?? new Error('upload failed')),
  );
  for (;;) {
    if (uploadError) throw uploadError;
    const depth = await queueDepth(run.aws, run.queueUrl);
    const dlq = (await queueDepth(run.aws, run.dlqUrl)) - before.dlq;
    onProgress?.(Math.min(uploaded, run.poller.stats.deleted - before.deleted + dlq), uploaded);
    if (uploadDone && run.bridge.sent - before.sent >= uploaded && depth === 0) break;
    await sleep(100);
  }
  await uploading;
}

/** `pipe`: what reached the tables, from Snowpipe's load history of this run. */
async function pipeSummary(run: Running, summary: LoadSummary, since: Date): Promise<void> {
  await pipesIdle(run);
  const loads = await pipeLoads(await run.connections.get(), since);
  // A file staged again (a re-run) is skipped by the load history.
  const manifestsFailed = loads.failures.filter((f) => f.table === 's3_access_logs_loads').length;
  summary.skipped += Math.max(0, summary.objects - loads.objects - manifestsFailed);
  Object.assign(summary, { objects: loads.objects, rows: loads.rows, rejects: loads.rejects });
  summary.files = { loaded: loads.files.loaded, failed: loads.files.failed, failures: loads.failures };
}

/** Uploads objects and waits until the pipeline has dealt with every one of them. */
export async function load(
  run: Running,
  source: LoadSource,
  onProgress?: (done: number, total: number) => void,
): Promise<LoadSummary> {
  const t0 = performance.now();
  // Snowpipe's loads of this run: snowflake-local stamps COPY_HISTORY with this process's clock.
  const since = new Date();
  const { totals } = run;
  const before = {
    ...totals,
    sent: run.bridge.sent,
    dlq: await queueDepth(run.aws, run.dlqUrl),
    deleted: run.poller.stats.deleted,
  };
  const objects = await collect(run, source);
  onProgress?.(0, objects.length);
  await uploadAndWait(run, objects, before, onProgress);
  const summary: LoadSummary = {
    uploaded: objects.length,
    objects: totals.objects - before.objects,
    rows: totals.rows - before.rows,
    rejects: totals.rejects - before.rejects,
    skipped: totals.skipped - before.skipped,
    dlq: await queueDepth(run.aws, run.dlqUrl),
    ms: 0,
    method: run.loadMethod,
  };
  if (run.loadMethod === 'pipe') await pipeSummary(run, summary, since);
  summary.ms = performance.now() - t0;
  return summary;
}

/** The investigations (sql/queries/) with their default parameters: the sample's planted incident. */
export async function runQueries(
  connections: ConnectionProvider,
  dir = path.join(REPO_ROOT, 'sql', 'queries'),
): Promise<QueryResult[]> {
  const conn = await connections.get();
  const results: QueryResult[] = [];
  for (const t of loadSqlTemplates(dir)) {
    const { sqlText, binds } = bindParams(t);
    const t0 = performance.now();
    const rows = await execute<Record<string, unknown>>(conn, sqlText, binds);
    results.push({
      file: path.basename(t.file),
      name: t.title,
      columns: rows[0] ? Object.keys(rows[0]) : [],
      rows,
      ms: performance.now() - t0,
    });
  }
  return results;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
