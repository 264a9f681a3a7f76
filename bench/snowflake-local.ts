/**
 * `npm run bench:snowflake-local`: rows/s of 30-column array-bind INSERTs through the real
 * snowflake-sdk into snowflake-local (in-process, in-memory warehouse), the path the ingest
 * Lambda uses. Also measures one-statement-per-row INSERTs on a small sample, for the ratio.
 * Prints the results; with --write also records them in bench/results/snowflake-local.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec, startSnowflake } from '../local/harness/snowflake.ts';

const GOAL_ROWS_PER_S = 50_000;
const COLUMNS = 30;
const BATCHES = [10_000, 50_000];
const REPEATS = 3;
const PER_ROW_SAMPLE = 300;

// Shaped like access-log rows (~450 bytes): mostly short text, a key and an ARN, integers,
// timestamps, nulls.
const kinds = Array.from({ length: COLUMNS }, (_, i) =>
  i % 6 === 1 ? 'number' : i % 10 === 3 ? 'timestamp_tz' : 'varchar',
);
const names = kinds.map((_, i) => `c${i}`);

function makeRows(n: number, offset: number): unknown[][] {
  const base = Date.UTC(2026, 0, 1);
  return Array.from({ length: n }, (_, r) =>
    kinds.map((k, i) => {
      const id = offset + r;
      if (k === 'number') return id * 31 + i;
      if (k === 'timestamp_tz') return new Date(base + id * 997).toISOString();
      if (i % 7 === 5 && id % 5 === 0) return null;
      if (i === 0) return 'example-logs-bucket';
      if (i === 2) return `data/2026/01/01/part-${String(id).padStart(8, '0')}.parquet`;
      if (i === 4) return `arn:aws:iam::123456789012:user/loader-${id % 50}`;
      return `v${id % 1000}-${i}`;
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const load = os.loadavg();
  const sf = await startSnowflake();
  const conn = await sf.connect();
  await exec(conn, `create table bench (${names.map((n, i) => `${n} ${kinds[i]}`).join(', ')})`);
  const insert = `insert into bench (${names.join(', ')}) values (${names.map(() => '?').join(', ')})`;
  const results: Array<{ rowsPerStatement: number; runsMs: number[]; medianRowsPerS: number; bestRowsPerS: number }> =
    [];
  let offset = 0;
  for (const n of BATCHES) {
    const runsMs: number[] = [];
    for (let k = 0; k < REPEATS; k++) {
      const rows = makeRows(n, offset);
      offset += n;
      const t0 = performance.now();
      await exec(conn, insert, rows);
      runsMs.push(Math.round(performance.now() - t0));
    }
    const medianRowsPerS = Math.round(n / (median(runsMs) / 1000));
    const bestRowsPerS = Math.round(n / (Math.min(...runsMs) / 1000));
    results.push({ rowsPerStatement: n, runsMs, medianRowsPerS, bestRowsPerS });
    process.stdout.write(
      `${n} rows x ${COLUMNS} cols per INSERT: ${runsMs.join(' / ')} ms -> median ${medianRowsPerS} rows/s (best ${bestRowsPerS})\n`,
    );
  }
  const counted = Number(Object.values((await exec(conn, 'select count(*) as n from bench'))[0]!)[0]);
  if (counted !== offset) throw new Error(`expected ${offset} rows in the table, found ${counted}`);

  // The same rows one statement per row, as a client without array binds would send them.
  const sample = makeRows(PER_ROW_SAMPLE, offset);
  const t0 = performance.now();
  for (const row of sample) await exec(conn, insert, row);
  const perRowMs = performance.now() - t0;
  const perRowRowsPerS = Math.round(PER_ROW_SAMPLE / (perRowMs / 1000));
  process.stdout.write(`one INSERT per row (${PER_ROW_SAMPLE} rows): ${perRowRowsPerS} rows/s\n`);
  await sf.stop();

  const best = Math.max(...results.map((r) => r.medianRowsPerS));
  const out = {
    benchmark: 'snowflake-local',
    command: 'npm run bench:snowflake-local -- --write',
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      loadAverage1mAtStart: Number(load[0]!.toFixed(2)),
    },
    what: `${COLUMNS}-column array-bind INSERT through snowflake-sdk into snowflake-local (in-process, in-memory DuckDB); times include the SDK building, compressing and sending the binds`,
    columns: COLUMNS,
    results,
    perRowInsert: { rows: PER_ROW_SAMPLE, rowsPerS: perRowRowsPerS },
    arrayVsPerRowRatio: Number((best / perRowRowsPerS).toFixed(1)),
    goalRowsPerS: GOAL_ROWS_PER_S,
    goalMet: best >= GOAL_ROWS_PER_S,
  };
  process.stdout.write(
    `best median ${best} rows/s (goal ${GOAL_ROWS_PER_S}); array/per-row ratio ${out.arrayVsPerRowRatio}x\n`,
  );
  if (process.argv.includes('--write')) {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'snowflake-local.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  }
}

await main();
