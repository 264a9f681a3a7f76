/**
 * Load test: one 200 MB access-log object through the ingest handler, peak RSS < 300 MB.
 * `npm run test:load` (it takes minutes on a 2-core machine, so it is not part of `npm test`).
 *
 * The parent starts fauxqs and snowflake-local and uploads the object (multipart: fauxqs takes at
 * most 11 MiB per request); the handler runs in a child process (an esbuild bundle run by plain
 * node, as in Lambda) whose peak RSS (VmHWM) is the measurement.
 * Exits non-zero if the object does not load exactly (rows = lines) or the RSS bound is exceeded.
 * Prints one JSON result line; --out FILE also writes it there.
 */
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { formatLine } from '../../../shared/access-log/index.ts';
import { count, LOG_BUCKET, makeRow, query, startStack } from './fixtures.ts';
import { runLoadChild } from '../../../local/harness/load-child-run.ts';

const TARGET_BYTES = Number(process.env.LOAD_TEST_MB ?? 200) * 1024 * 1024;
const RSS_LIMIT_MB = 300;
const PART_BYTES = 8 * 1024 * 1024;

const stack = await startStack();
let exitCode = 1;
try {
  const key = 'logs/load/2024-05-01-10-00-00-200MB';
  // Upload part by part: the parent never holds the whole text either.
  const { UploadId } = await stack.aws.s3.send(new CreateMultipartUploadCommand({ Bucket: LOG_BUCKET, Key: key }));
  const parts: Array<{ ETag: string; PartNumber: number }> = [];
  let lines = 0;
  let size = 0;
  let pending: string[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const body = Buffer.from(pending.join(''));
    pending = [];
    pendingBytes = 0;
    const PartNumber = parts.length + 1;
    const r = await stack.aws.s3.send(
      new UploadPartCommand({ Bucket: LOG_BUCKET, Key: key, UploadId, PartNumber, Body: body }),
    );
    parts.push({ ETag: r.ETag!, PartNumber });
    size += body.length;
  };
  const t0 = performance.now();
  while (size + pendingBytes < TARGET_BYTES) {
    const line = `${formatLine(makeRow(lines))}\n`;
    lines++;
    pending.push(line);
    pendingBytes += line.length;
    if (pendingBytes >= PART_BYTES) await flush();
  }
  if (pendingBytes > 0) await flush();
  const done = await stack.aws.s3.send(
    new CompleteMultipartUploadCommand({ Bucket: LOG_BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  );
  const uploadSeconds = (performance.now() - t0) / 1000;
  const object = { bucket: LOG_BUCKET, key, size, etag: done.ETag!.replace(/"/g, '') };

  // The child is bundled like build.mjs bundles the Lambda, and run with plain node.
  const { log, report: child } = await runLoadChild(
    { endpoint: stack.aws.endpoint, snowflakeUrl: stack.sf.url, object },
    (process.env.LOAD_TEST_NODE_ARGS ?? '').split(' ').filter(Boolean),
  );
  // Anything before the result line is the handler's own log (LOAD_TEST_LOG_LEVEL): pass it on.
  if (log.length > 0) process.stderr.write(`${log.join('\n')}\n`);
  const rows = await count(stack, 's3_access_logs', key);
  const [ledger] = await query(
    stack,
    'SELECT linecount, rowcount, rejectcount FROM s3_access_logs_loads WHERE logkey = ?',
    [key],
  );
  const result = {
    test: 'ingest-200mb',
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
    objectBytes: size,
    lines,
    rowsInTable: rows,
    ledger: ledger && {
      linecount: Number(ledger.linecount),
      rowcount: Number(ledger.rowcount),
      rejectcount: Number(ledger.rejectcount),
    },
    uploadSeconds: Math.round(uploadSeconds * 10) / 10,
    loadSeconds: Math.round(child.seconds * 10) / 10,
    childPeakRssMb: child.vmHwmMb,
    childMaxRssInheritedMb: Math.round(child.maxRssMb),
    childPeakMb: child.peakMb,
    childRetainedHeapMb: child.retainedHeapMb,
    childRssAtStartMb: child.rssAtStartMb,
    childRssEvery5s: child.rssTimeline,
    rssLimitMb: RSS_LIMIT_MB,
    roundTrips: child.summary?.roundTrips,
    transactions: child.summary?.transactions,
    batchItemFailures: child.response.batchItemFailures.length,
  };
  const ok = rows === lines && result.batchItemFailures === 0 && result.childPeakRssMb < RSS_LIMIT_MB;
  process.stdout.write(`${JSON.stringify({ ...result, ok })}\n`);
  const outIdx = process.argv.indexOf('--out');
  if (outIdx > 0) writeFileSync(process.argv[outIdx + 1]!, `${JSON.stringify({ ...result, ok }, null, 2)}\n`);
  exitCode = ok ? 0 : 1;
} finally {
  await stack.stop();
}
process.exit(exitCode);
