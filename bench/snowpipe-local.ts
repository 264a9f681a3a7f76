/**
 * `npm run bench:snowpipe-local`: how fast snowflake-local's Snowpipe emulation loads staged files
 * (rows/s from the notifications to `snowpipe.idle()`), against array-bind INSERTs of the same
 * rows through snowflake-sdk (the `insert` method's statements) in the same run. Rows are parsed
 * from generated access-log lines and written in the contract's CSV dialect (gzip), one file per
 * "object", as the ingest Lambda stages them. Writes bench/results/snowpipe-local.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COLUMNS, parseLine, type AccessLogRow } from '../shared/access-log/index.ts';
import { generateLines } from '../local/sample/lines.ts';
import { exec } from '../local/harness/snowflake.ts';
import { csvRecord, startSnowpipe, STAGING_PREFIX } from '../local/harness/snowpipe.ts';

const FILES = Number(process.env.BENCH_FILES ?? 40);
const ROWS_PER_FILE = Number(process.env.BENCH_ROWS ?? 5_000);

function rowsFor(file: number): AccessLogRow[] {
  const rows: AccessLogRow[] = [];
  for (const line of generateLines({ seed: file + 1 })) {
    const r = parseLine(line);
    if (r.ok) rows.push(r.row);
    if (rows.length === ROWS_PER_FILE) break;
  }
  return rows;
}

const values = (row: AccessLogRow, key: string, line: number) => [
  ...COLUMNS.map((c) => row[c]),
  'bench-logs',
  key,
  line,
];

async function main(): Promise<void> {
  const load = os.loadavg();
  const data = Array.from({ length: FILES }, (_, f) => rowsFor(f));
  const t = await startSnowpipe();
  try {
    // Snowpipe: stage every file first (not timed), then notify them all and wait until loaded.
    for (const [f, rows] of data.entries()) {
      await t.stage(
        `${STAGING_PREFIX}rows/bench-${f}.csv.gz`,
        rows.map((r, i) => csvRecord(values(r, `pipe-${f}`, i + 1) as never)),
        { notify: false },
      );
    }
    const t0 = performance.now();
    for (let f = 0; f < FILES; f++) await t.notify(`${STAGING_PREFIX}rows/bench-${f}.csv.gz`);
    await t.idle();
    const pipeMs = performance.now() - t0;
    const [count] = await exec<{ N: number }>(
      t.conn,
      "SELECT COUNT(*) AS N FROM s3_access_logs WHERE logkey LIKE 'pipe-%'",
    );
    const loaded = count?.N ?? 0;

    // insert: one array-bind INSERT per file, as the insert loader sends them.
    const cols = [...COLUMNS, 'logbucket', 'logkey', 'logline', 'loadedat'];
    const sql = `INSERT INTO s3_access_logs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
    const now = new Date().toISOString();
    const t1 = performance.now();
    for (const [f, rows] of data.entries()) {
      await exec(
        t.conn,
        sql,
        rows.map((r, i) => [...values(r, `insert-${f}`, i + 1), now]),
      );
    }
    const insertMs = performance.now() - t1;

    const total = FILES * ROWS_PER_FILE;
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavgAtStart: load.map((x) => Number(x.toFixed(2))) },
      files: FILES,
      rowsPerFile: ROWS_PER_FILE,
      rowsLoadedByPipe: Number(loaded),
      snowpipe: {
        ms: Math.round(pipeMs),
        rowsPerS: Math.round(total / (pipeMs / 1000)),
        msPerFile: Number((pipeMs / FILES).toFixed(1)),
      },
      arrayInsert: { ms: Math.round(insertMs), rowsPerS: Math.round(total / (insertMs / 1000)) },
      snowpipeVsInsert: Number((insertMs / pipeMs).toFixed(2)),
    };
    const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'snowpipe-local.json');
    fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `snowpipe: ${result.snowpipe.rowsPerS} rows/s (${result.snowpipe.msPerFile} ms per ${ROWS_PER_FILE}-row file); ` +
        `array INSERT: ${result.arrayInsert.rowsPerS} rows/s; snowpipe is ${result.snowpipeVsInsert}x insert. Wrote ${path.relative(process.cwd(), out)}\n`,
    );
    if (Number(loaded) !== total) throw new Error(`snowpipe loaded ${loaded} rows, expected ${total}`);
  } finally {
    await t.stop();
  }
}

await main();
