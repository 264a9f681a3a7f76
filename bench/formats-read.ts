/**
 * `npm run bench:formats-read`: how fast the format-detecting reader (shared/access-log/formats)
 * turns the same requests into typed rows from each delivery format, in one run: the text S3 writes
 * to a bucket (plain and gzip) against CloudWatch Logs vended delivery's NDJSON (plain and gzip) and
 * Parquet (snappy, the writer's default). Results go to bench/results/formats-read.json.
 *
 * Two rates per format, both from CPU time (the machine is shared; wall time mostly measures the
 * neighbours): MB/s of the object's own bytes, and "text-equivalent" MB/s, the bytes the same rows
 * take as text, which compares the formats on the same work. Ratios are against plain text.
 *
 *   npm run bench:formats-read                 # ~30 MB of text-equivalent rows, 3 rounds
 *   BENCH_MB=5 npm run bench:formats-read -- --no-write
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parseLine, type AccessLogRow } from '../shared/access-log/index.ts';
import { readLogRecords } from '../shared/access-log/formats/index.ts';
import { toParquet, vendedRecord } from '../local/sample/vended.ts';
import type { SampleObject } from '../local/sample/index.ts';
import { generateLines } from '../local/sample/lines.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = path.join(repoRoot, 'bench/results/formats-read.json');
const targetMb = Number(process.env.BENCH_MB ?? 30);
const ROUNDS = 3;
const CHUNK = 64 * 1024;

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const wallNow = () => Number(process.hrtime.bigint()) / 1e9;

function buildInputs() {
  const lines: string[] = [];
  const rows: AccessLogRow[] = [];
  let bytes = 0;
  for (const line of generateLines({ seed: 1 })) {
    const r = parseLine(line);
    if (!r.ok) continue;
    lines.push(line);
    rows.push(r.row);
    bytes += Buffer.byteLength(line) + 1;
    if (bytes >= targetMb * 1e6) break;
  }
  const text = Buffer.from(`${lines.join('\n')}\n`);
  const ndjson = Buffer.from(`${rows.map((row, i) => JSON.stringify(vendedRecord(row, (i % 999) + 1))).join('\n')}\n`);
  const object: SampleObject = {
    key: 'bench',
    sourceBucket: '',
    body: '',
    lines: rows.map((row) => ({ raw: '', row })),
    rows: rows.length,
    rejects: 0,
  };
  return {
    rows: rows.length,
    textBytes: text.length,
    inputs: {
      text: text,
      'text gzip': gzipSync(text),
      ndjson: ndjson,
      'ndjson gzip': gzipSync(ndjson),
      parquet: toParquet(object, 10_000),
    } as Record<string, Buffer>,
  };
}

async function readAll(body: Buffer): Promise<{ rows: number; check: number }> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += CHUNK) chunks.push(body.subarray(i, i + CHUNK));
  let rows = 0;
  let check = 0;
  for await (const p of readLogRecords(Readable.from(chunks))) {
    if (p.result.ok) {
      rows++;
      check += p.result.row.httpstatus ?? 0;
    }
  }
  return { rows, check };
}

async function main() {
  console.log(`building ~${targetMb} MB of text-equivalent rows in five formats…`);
  const { rows, textBytes, inputs } = buildInputs();
  const results: Record<string, unknown> = {};
  let baseline = 0;
  for (const [name, body] of Object.entries(inputs)) {
    const cpu: number[] = [];
    const wall: number[] = [];
    let check = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const c0 = cpuNow();
      const w0 = wallNow();
      const r = await readAll(body);
      cpu.push(cpuNow() - c0);
      wall.push(wallNow() - w0);
      if (r.rows !== rows) throw new Error(`${name}: read ${r.rows} rows, expected ${rows}`);
      check = r.check;
    }
    const cpuSeconds = Math.min(...cpu);
    const textEquivalentMbPerSec = textBytes / 1e6 / cpuSeconds;
    if (name === 'text') baseline = textEquivalentMbPerSec;
    results[name] = {
      objectBytes: body.length,
      cpuSeconds: +cpuSeconds.toFixed(3),
      wallSeconds: +Math.min(...wall).toFixed(3),
      rowsPerSec: Math.round(rows / cpuSeconds),
      objectMbPerSec: +(body.length / 1e6 / cpuSeconds).toFixed(1),
      textEquivalentMbPerSec: +textEquivalentMbPerSec.toFixed(1),
      vsText: +(textEquivalentMbPerSec / baseline).toFixed(2),
      check,
    };
    const r = results[name] as {
      objectMbPerSec: number;
      textEquivalentMbPerSec: number;
      rowsPerSec: number;
      vsText: number;
    };
    console.log(
      `${name.padEnd(12)} ${(body.length / 1e6).toFixed(1).padStart(6)} MB  ${String(r.objectMbPerSec).padStart(7)} MB/s of object  ` +
        `${String(r.textEquivalentMbPerSec).padStart(7)} MB/s text-equivalent  ${String(r.rowsPerSec).padStart(8)} rows/s  ×${r.vsText} vs text`,
    );
  }
  const out = {
    benchmark: 'formats-read',
    date: new Date().toISOString(),
    command: 'npm run bench:formats-read',
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      loadAverageAtEnd: os.loadavg().map((x) => +x.toFixed(1)),
      note: 'shared machine: rates use CPU time of this process (best of the rounds); wall time is given too',
    },
    input: { generator: 'local/sample/lines.ts seed 1', rows, textBytes, chunkBytes: CHUNK, parquetRowGroup: 10_000 },
    rounds: ROUNDS,
    what: 'readLogRecords over 64 KiB chunks: format detection, gunzip where gzip, decode, split/JSON.parse or Parquet row-group decode, mapping to typed rows',
    results,
  };
  if (!process.argv.includes('--no-write')) {
    writeFileSync(resultsFile, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`written to ${path.relative(repoRoot, resultsFile)}`);
  }
}

await main();
