/**
 * `npm run bench:ingest`: the load methods end to end on the local stack, in one run.
 *
 * 1. Throughput: BENCH_OBJECTS (default 200) generated log objects of ~1 MB each, loaded by the
 *    whole local pipeline (fauxqs, notification bridge, poller, the real ingest handler, and, in
 *    `pipe`, the staging bridge and snowflake-local's Snowpipe; in `insert`, snowflake-local's SQL)
 *    with `pipe` and with `insert`, against `parse` alone (readLogLines over the same bytes, in
 *    memory). Every component runs in this process, so its CPU time (user + system, DuckDB's
 *    threads included) is what each method costs; wall time is also shown but mostly measures the
 *    neighbours on a shared machine.
 *    And the two halves of `pipe` apart, since locally the "Snowflake" side runs in the same process
 *    and is part of the end-to-end CPU, while in AWS it is Snowflake's (billed per GB), not Lambda's:
 *    - the Lambda side: the ingest handler staging files, with fauxqs in a child process, so the
 *      handler's CPU (parse, CSV, gzip, AWS SDK) and fauxqs's (a local stand-in for S3) are apart;
 *    - the local Snowpipe emulation: snowflake-local loading those staged files into DuckDB.
 * 2. Memory: the handler with `pipe`, alone in a child process (as in Lambda), on a 200 MB object
 *    and on a 7 MB object of 2-byte lines: its peak RSS (VmHWM), goal < 300 MB.
 * Results (with the machine) go to bench/results/ingest.json.
 *
 *   npm run bench:ingest
 *   BENCH_OBJECTS=20 npm run bench:ingest -- --no-write     # quick look, nothing recorded
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { fork } from 'node:child_process';
import { Upload } from '@aws-sdk/lib-storage';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent } from 'aws-lambda';
import { createIngestHandler } from '../functions/ingest/handler.ts';
import { readLogLines } from '../shared/access-log/index.ts';
import { INGEST_DEFAULTS, type IngestConfig, type LoadMethod } from '../shared/config.ts';
import { notificationBody } from '../local/harness/events.ts';
import { startAwsLocal } from '../local/aws.ts';
import { startStack } from '../local/stack.ts';
import { runLoadChild } from '../local/harness/load-child-run.ts';
import { exec } from '../local/harness/snowflake.ts';
import { startSnowpipe, STAGING_BUCKET } from '../local/harness/snowpipe.ts';
import { generateLines, generateText } from '../local/sample/lines.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = path.join(repoRoot, 'bench/results/ingest.json');
const args = new Set(process.argv.slice(2));
const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 200);
const OBJECT_BYTES = 1 << 20;
const RSS_LIMIT_MB = 300;

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const round = (x: number, digits = 2) => +x.toFixed(digits);

function measure(lines: number, bytes: number, cpuSeconds: number, wallSeconds: number) {
  return {
    cpuSeconds: round(cpuSeconds),
    wallSeconds: round(wallSeconds),
    linesPerCpuSecond: Math.round(lines / cpuSeconds),
    mbPerCpuSecond: round(bytes / 1e6 / cpuSeconds, 1),
    linesPerWallSecond: Math.round(lines / wallSeconds),
  };
}

// The objects, as files the stack's `--logs` loader reads (keys logs/<name>).
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
const bodies: Buffer[] = [];
let totalLines = 0;
for (let i = 0; i < OBJECTS; i++) {
  const body = Buffer.from(generateText(OBJECT_BYTES, { seed: i + 1, start: Date.UTC(2026, 10, 1) + i * 60_000 }));
  bodies.push(body);
  totalLines += body
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '').length;
  const t = new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString().slice(0, 19).replace(/[T:]/g, '-');
  writeFileSync(path.join(dir, `${t}-${String(i).padStart(16, '0')}`), body);
}
const totalBytes = bodies.reduce((s, b) => s + b.length, 0);
process.stderr.write(`bench:ingest: ${OBJECTS} objects, ${round(totalBytes / 1e6, 1)} MB, ${totalLines} lines\n`);

async function parseAlone() {
  const c0 = cpuNow();
  const w0 = performance.now();
  let lines = 0;
  for (const body of bodies) for await (const l of readLogLines(Readable.from([body]))) if (l.result) lines++;
  if (lines !== totalLines) throw new Error(`parse saw ${lines} lines, expected ${totalLines}`);
  return measure(lines, totalBytes, cpuNow() - c0, (performance.now() - w0) / 1000);
}

async function endToEnd(method: LoadMethod) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `bench-ingest-${method}-`));
  const stack = await startStack({ awsPort: 0, snowflakePort: 0, dataDir, logLevel: 'SILENT', loadMethod: method });
  try {
    const c0 = cpuNow();
    const w0 = performance.now();
    const s = await stack.load({ kind: 'dir', dir });
    const cpu = cpuNow() - c0;
    const wall = (performance.now() - w0) / 1000;
    if (s.objects !== OBJECTS || s.rows + s.rejects !== totalLines || s.dlq !== 0 || (s.files?.failed ?? 0) !== 0)
      throw new Error(`${method} did not load everything exactly: ${JSON.stringify(s)}`);
    return {
      ...measure(totalLines, totalBytes, cpu, wall),
      rows: s.rows,
      rejects: s.rejects,
      ...(s.files ? { filesLoaded: s.files.loaded } : {}),
    };
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** fauxqs in a child process (bench/fauxqs-child.ts): its endpoint, CPU and stop. */
async function fauxqsChild() {
  const child = fork(path.join(repoRoot, 'bench/fauxqs-child.ts'), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (m) => resolve(m as T));
      child.once('exit', (code) => reject(new Error(`the fauxqs child exited (${code})`)));
    });
  const info = await next<{
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  }>();
  return {
    s3: new S3Client({
      endpoint: info.endpoint,
      region: info.region,
      credentials: info.credentials,
      forcePathStyle: true,
    }),
    cpu: async () => {
      const r = next<{ cpu: number }>();
      child.send('cpu');
      return (await r).cpu;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

/**
 * The Lambda side of `pipe` alone: the ingest handler, batches of 10 messages, reading the objects
 * from fauxqs and staging their files there. fauxqs runs in a child process: its CPU is reported
 * apart (in AWS that is S3's). Returns the staged files too, for the Snowpipe phase.
 */
async function pipeHandlerOnly() {
  const aws = await fauxqsChild();
  try {
    await aws.s3.send(new CreateBucketCommand({ Bucket: 'bench-logs' }));
    await aws.s3.send(new CreateBucketCommand({ Bucket: 'bench-staging' }));
    const objects = [];
    for (const [i, body] of bodies.entries())
      objects.push(await upload(aws.s3, 'bench-logs', `logs/${i}`, [body.toString('utf8')]));
    const config: IngestConfig = {
      logBuckets: ['bench-logs'],
      logPrefixes: [],
      loadMethod: 'pipe',
      staging: { bucket: 'bench-staging', prefix: 'pipe/' },
      insertChunkRows: INGEST_DEFAULTS.insertChunkRows,
      memoryBudgetBytes: INGEST_DEFAULTS.memoryBudgetMb << 20,
      logLevel: 'SILENT',
      loadMode: 'parsed',
    };
    let lines = 0;
    const handle = createIngestHandler({
      config,
      s3: aws.s3,
      logger: new Logger({ logLevel: 'SILENT' }),
      onBatch: (s) => (lines += s.rows + s.rejects),
    });
    const f0 = await aws.cpu();
    const c0 = cpuNow();
    const w0 = performance.now();
    for (let i = 0; i < objects.length; i += 10) {
      const batch = objects.slice(i, i + 10);
      const r = await handle({
        Records: batch.map((o, j) => ({ messageId: `m${i + j}`, body: notificationBody([o]) })),
      } as SQSEvent);
      if (r.batchItemFailures.length > 0) throw new Error('the pipe handler failed a message');
    }
    const handler = measure(lines, totalBytes, cpuNow() - c0, (performance.now() - w0) / 1000);
    const fauxqsCpuSeconds = round((await aws.cpu()) - f0);
    if (lines !== totalLines) throw new Error(`the pipe handler staged ${lines} lines, expected ${totalLines}`);
    const staged: Array<{ key: string; body: Uint8Array }> = [];
    let token: string | undefined;
    do {
      const page = await aws.s3.send(new ListObjectsV2Command({ Bucket: 'bench-staging', ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const got = await aws.s3.send(new GetObjectCommand({ Bucket: 'bench-staging', Key: o.Key! }));
        staged.push({ key: o.Key!, body: await got.Body!.transformToByteArray() });
      }
      token = page.NextContinuationToken;
    } while (token);
    return {
      handler: {
        ...handler,
        fauxqsCpuSeconds,
        stagedFiles: staged.length,
        stagedBytes: staged.reduce((n, f) => n + f.body.length, 0),
      },
      staged,
    };
  } finally {
    await aws.stop();
  }
}

/**
 * The local Snowpipe emulation alone: snowflake-local (DuckDB file, as `npm start`) loading the
 * files the handler staged, one notification per file as the stack's bridge sends them, until
 * idle. Includes the in-process fauxqs serving the files and the queue.
 */
async function snowpipeOnly(staged: Array<{ key: string; body: Uint8Array }>) {
  const dbDir = mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-snowpipe-'));
  const t = await startSnowpipe({ dbPath: path.join(dbDir, 'warehouse.duckdb') });
  try {
    for (const f of staged)
      await t.aws.s3.send(new PutObjectCommand({ Bucket: STAGING_BUCKET, Key: f.key, Body: f.body }));
    const c0 = cpuNow();
    const w0 = performance.now();
    for (const f of staged) await t.notify(f.key);
    await t.idle();
    const result = measure(totalLines, totalBytes, cpuNow() - c0, (performance.now() - w0) / 1000);
    const [loaded] = await exec<{ N: number }>(t.conn, 'SELECT COUNT(*) AS N FROM s3_access_logs');
    if (Number(loaded?.N) !== totalLines)
      throw new Error(`the local Snowpipe loaded ${loaded?.N} rows, expected ${totalLines}`);
    return { ...result, files: staged.length };
  } finally {
    await t.stop();
    rmSync(dbDir, { recursive: true, force: true });
  }
}

/** Uploads generated text to the log bucket, streaming (the parent never holds it whole). */
async function upload(s3: S3Client, bucket: string, key: string, text: Iterable<string>) {
  let size = 0;
  const body = Readable.from(
    (function* () {
      for (const t of text) {
        size += Buffer.byteLength(t);
        yield t;
      }
    })(),
  );
  const r = await new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: body },
    partSize: 8 << 20,
  }).done();
  return { bucket, key, size, etag: r.ETag!.replace(/"/g, '') };
}

function* chunks(lines: Iterable<string>, maxBytes: number, chunk = 1 << 20): Generator<string> {
  let buf = '';
  let total = 0;
  for (const l of lines) {
    buf += `${l}\n`;
    if (buf.length >= chunk) {
      yield buf;
      total += buf.length;
      buf = '';
      if (total >= maxBytes) return;
    }
  }
  if (buf) yield buf;
}

async function pipeRss() {
  const aws = await startAwsLocal();
  const out: Record<string, unknown> = {};
  try {
    await aws.s3.send(new CreateBucketCommand({ Bucket: 'bench-logs' }));
    await aws.s3.send(new CreateBucketCommand({ Bucket: 'bench-staging' }));
    const cases = {
      '200mb': () => chunks(generateLines({ seed: 7 }), 200 << 20),
      '7mb-2-byte-lines': () =>
        chunks(
          (function* () {
            for (;;) yield 'x';
          })(),
          7 << 20,
        ),
    };
    for (const [name, text] of Object.entries(cases)) {
      const object = await upload(aws.s3, 'bench-logs', `logs/${name}`, text());
      const { report } = await runLoadChild({
        endpoint: aws.endpoint,
        staging: { bucket: 'bench-staging', prefix: 'pipe/' },
        object,
      });
      const s = report.summary!;
      if (report.response.batchItemFailures.length > 0 || s.objectsLoaded !== 1)
        throw new Error(`pipe RSS case ${name} did not load: ${JSON.stringify(report)}`);
      out[name] = {
        objectBytes: object.size,
        lines: s.rows + s.rejects,
        rows: s.rows,
        rejects: s.rejects,
        loadSeconds: round(report.seconds, 1),
        peakRssMb: report.vmHwmMb,
        rssAtStartMb: report.rssAtStartMb,
        peakHeapUsedMb: report.peakMb.heapUsed,
        ok: report.vmHwmMb < RSS_LIMIT_MB,
      };
      process.stderr.write(`bench:ingest: pipe RSS ${name}: ${report.vmHwmMb} MB\n`);
    }
  } finally {
    await aws.stop();
  }
  return out;
}

try {
  const parse = await parseAlone();
  process.stderr.write(`bench:ingest: parse ${parse.cpuSeconds} s CPU\n`);
  const { handler: pipeLambda, staged } = await pipeHandlerOnly();
  process.stderr.write(
    `bench:ingest: pipe handler alone ${pipeLambda.cpuSeconds} s CPU (+ fauxqs ${pipeLambda.fauxqsCpuSeconds} s)\n`,
  );
  const snowpipe = await snowpipeOnly(staged);
  staged.length = 0;
  process.stderr.write(`bench:ingest: local Snowpipe alone ${snowpipe.cpuSeconds} s CPU\n`);
  const pipe = await endToEnd('pipe');
  process.stderr.write(`bench:ingest: pipe ${pipe.cpuSeconds} s CPU, ${pipe.wallSeconds} s wall\n`);
  const insert = await endToEnd('insert');
  process.stderr.write(`bench:ingest: insert ${insert.cpuSeconds} s CPU, ${insert.wallSeconds} s wall\n`);
  const rss = args.has('--skip-rss') ? undefined : await pipeRss();
  const result = {
    bench: 'ingest',
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
    objects: OBJECTS,
    bytes: totalBytes,
    lines: totalLines,
    parse,
    pipeHandlerOnly: pipeLambda,
    snowpipeLocalOnly: snowpipe,
    pipe,
    insert,
    ratios: {
      pipeHandlerOnlyVsParseCpu: round(parse.cpuSeconds / pipeLambda.cpuSeconds),
      pipeHandlerWithFauxqsVsParseCpu: round(parse.cpuSeconds / (pipeLambda.cpuSeconds + pipeLambda.fauxqsCpuSeconds)),
      snowpipeLocalOnlyVsParseCpu: round(parse.cpuSeconds / snowpipe.cpuSeconds),
      pipeVsParseCpu: round(parse.cpuSeconds / pipe.cpuSeconds),
      pipeVsInsertCpu: round(insert.cpuSeconds / pipe.cpuSeconds),
      insertVsParseCpu: round(parse.cpuSeconds / insert.cpuSeconds),
      pipeVsParseWall: round(parse.wallSeconds / pipe.wallSeconds),
      pipeVsInsertWall: round(insert.wallSeconds / pipe.wallSeconds),
    },
    goals: { pipeVsParse: '>= 0.5 (throughput)', pipeVsInsert: '>= 3', pipeRssMb: `< ${RSS_LIMIT_MB}` },
    pipeRss: rss,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (!args.has('--no-write')) writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
