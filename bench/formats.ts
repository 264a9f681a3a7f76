/**
 * `npm run bench:formats`: which file format the `pipe` load method should stage (issue 11, item 3).
 * On the same generated log lines, cut into log objects of ~1 MB (one staged rows file per object,
 * as the Lambda writes them), each candidate is measured for
 *   - CPU per GB of logs to encode + compress the parsed rows (parse itself excluded: it is the
 *     same for all; best of 3 rounds, CPU time of this process),
 *   - bytes written to S3, and bytes Snowpipe bills (text formats: uncompressed size; binary
 *     formats such as Parquet: the stored size — Snowflake's "Snowpipe costs" page),
 *   - what the encoder adds to the ingest Lambda's bundle (esbuild, minified, as build.mjs bundles),
 *   - whether DuckDB reads the files back with the table's column types and every value equal to
 *     the parser's rows (@duckdb/node-api; every column of every row compared).
 * Snowflake's own typed load cannot run here; bench/results/formats.json says what the docs say.
 *
 *   npm run bench:formats                     # ~64 MB of logs; prints the results
 *   npm run bench:formats -- --write          # ... and records them in bench/results/formats.json
 *   BENCH_MB=8 npm run bench:formats          # quick look
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { build } from 'esbuild';
import { parseLine } from '../shared/access-log/index.ts';
import { generateLines } from '../local/sample/lines.ts';
import { gzipCsv, gzipNdjson, parquet, STAGED_COLUMNS, type StagedRow } from './format-encoders.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = path.join(repoRoot, 'bench/results/formats.json');
// Results are recorded only when asked, like every benchmark here.
const write = process.argv.includes('--write');
const targetMb = Number(process.env.BENCH_MB ?? 64);
const OBJECT_BYTES = 1 << 20;
const ROUNDS = 3;
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Format {
  name: string;
  ext: string;
  /** Snowpipe bills text formats on their uncompressed size, binary ones on the stored size. */
  billing: 'uncompressed' | 'stored';
  encode: (rows: StagedRow[]) => { bytes: Buffer; uncompressed: number };
  /** A module exporting only this encoder, for the bundle-size measurement. */
  bundleEntry: string;
  /** DuckDB table function reading the files with the table's types. */
  duckdbRead: (glob: string) => string;
}

// The types snowflake-local gives the table's columns (NUMBER(38,0) → HUGEINT, TIMESTAMP_TZ → TIMESTAMPTZ).
const duckType = (c: string) =>
  c === 'requestdatetime'
    ? 'TIMESTAMPTZ'
    : ['httpstatus', 'bytessent', 'objectsize', 'totaltime', 'turnaroundtime', 'logline'].includes(c)
      ? 'HUGEINT'
      : c === 'aclrequired'
        ? 'BOOLEAN'
        : 'VARCHAR';
const columnsStruct = `{${STAGED_COLUMNS.map((c) => `'${c}': '${duckType(c)}'`).join(', ')}}`;

const FORMATS: Format[] = [
  {
    name: 'csv.gz',
    ext: 'csv.gz',
    billing: 'uncompressed',
    encode: gzipCsv,
    bundleEntry: "export { gzipCsv } from './bench/format-encoders.ts';",
    // The contract's dialect: a quoted "" is the empty string, only an unquoted empty field is NULL.
    duckdbRead: (g) =>
      `read_csv('${g}', header = false, delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, auto_detect = false, columns = ${columnsStruct})`,
  },
  {
    name: 'ndjson.gz',
    ext: 'ndjson.gz',
    billing: 'uncompressed',
    encode: gzipNdjson,
    bundleEntry: "export { gzipNdjson } from './bench/format-encoders.ts';",
    duckdbRead: (g) => `read_json('${g}', format = 'newline_delimited', columns = ${columnsStruct})`,
  },
  {
    name: 'parquet (snappy, hyparquet-writer)',
    ext: 'snappy.parquet',
    billing: 'stored',
    encode: (rows) => parquet(rows, 'SNAPPY'),
    bundleEntry: "export { parquet } from './bench/format-encoders.ts';",
    // No column list: the file carries its types, and we check them as DuckDB reads them.
    duckdbRead: (g) => `read_parquet('${g}')`,
  },
  {
    name: 'parquet (gzip, hyparquet-writer)',
    ext: 'gzip.parquet',
    billing: 'stored',
    encode: (rows) => parquet(rows, 'GZIP'),
    bundleEntry: "export { parquet } from './bench/format-encoders.ts';",
    duckdbRead: (g) => `read_parquet('${g}')`,
  },
];

/** ~targetMb of log lines cut into ~1 MB log objects, parsed once. */
function makeObjects() {
  const objects: { key: string; logBytes: number; rows: StagedRow[] }[] = [];
  let cur: (typeof objects)[number] | undefined;
  let total = 0;
  let lineNo = 0;
  for (const line of generateLines({ seed: 7 })) {
    if (!cur || cur.logBytes >= OBJECT_BYTES) {
      if (total >= targetMb * 1e6) break;
      cur = { key: `logs/2024-03-14-00-00-${String(objects.length).padStart(5, '0')}-ABCDEF`, logBytes: 0, rows: [] };
      objects.push(cur);
      lineNo = 0;
    }
    const bytes = Buffer.byteLength(line) + 1;
    cur.logBytes += bytes;
    total += bytes;
    lineNo++;
    const r = parseLine(line);
    if (r.ok) cur.rows.push({ row: r.row, logbucket: 'bench-access-logs', logkey: cur.key, logline: lineNo });
  }
  return { objects, logBytes: total };
}

async function bundleBytes(contents: string): Promise<number> {
  const r = await build({
    stdin: { contents, resolveDir: repoRoot, sourcefile: 'entry.ts', loader: 'ts' },
    absWorkingDir: repoRoot,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    treeShaking: true,
    legalComments: 'none',
    write: false,
    logLevel: 'error',
  });
  return r.outputFiles[0]!.contents.length;
}

type Js = unknown;
/** A DuckDB value and the parser's value mean the same thing (timestamps as instants, integers as numbers). */
function same(col: string, got: Js, want: string | number | boolean | null): boolean {
  if (want === null || got === null || got === undefined) return (got ?? null) === want;
  if (col === 'requestdatetime') return got instanceof Date && got.getTime() === Date.parse(want as string);
  if (typeof got === 'bigint') return Number(got) === want;
  return got === want;
}

async function roundTrip(dir: string, f: Format, objects: ReturnType<typeof makeObjects>['objects']) {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    const glob = path.join(dir, `*.${f.ext}`);
    const described = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${f.duckdbRead(glob)}`)).getRowsJS();
    const types = Object.fromEntries(described.map((r) => [String(r[0]), String(r[1])]));
    const typeMismatches = STAGED_COLUMNS.filter((c) => {
      const want = duckType(c);
      const got = types[c];
      // Any 64/128-bit integer holds NUMBER(38,0) values of this table exactly.
      return want === 'HUGEINT'
        ? !['BIGINT', 'HUGEINT'].includes(got ?? '')
        : got !== (want === 'TIMESTAMPTZ' ? 'TIMESTAMP WITH TIME ZONE' : want);
    }).map((c) => `${c}: ${types[c] ?? 'missing'}`);
    const reader = await conn.runAndReadAll(
      `SELECT ${STAGED_COLUMNS.join(', ')} FROM ${f.duckdbRead(glob)} ORDER BY logkey, logline`,
    );
    const got = reader.getRowsJS();
    const want = objects
      .flatMap((o) => o.rows)
      .sort((a, b) => (a.logkey < b.logkey ? -1 : a.logkey > b.logkey ? 1 : a.logline - b.logline));
    const valueMismatches: Record<string, number> = {};
    for (let i = 0; i < Math.max(got.length, want.length); i++) {
      const g = got[i];
      const w = want[i];
      STAGED_COLUMNS.forEach((c, j) => {
        const wv = w ? (c === 'logbucket' || c === 'logkey' || c === 'logline' ? w[c] : w.row[c]) : undefined;
        if (!g || wv === undefined || !same(c, g[j], wv)) valueMismatches[c] = (valueMismatches[c] ?? 0) + 1;
      });
    }
    return {
      rowsRead: got.length,
      rowsExpected: want.length,
      typesAsRead: types,
      typeMismatches,
      valueMismatches,
      exact: got.length === want.length && typeMismatches.length === 0 && Object.keys(valueMismatches).length === 0,
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function main() {
  const { objects, logBytes } = makeObjects();
  const rows = objects.reduce((n, o) => n + o.rows.length, 0);
  console.log(`${objects.length} log objects, ${(logBytes / 1e6).toFixed(1)} MB of log lines, ${rows} rows`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 's3al-bench-formats-'));
  const ingestBundle = await bundleBytes("export { handler } from './functions/ingest/handler.ts';");
  const results: Record<string, Js> = {};
  try {
    for (const f of FORMATS) {
      let bestCpu = Infinity;
      let written = 0;
      let billed = 0;
      for (let round = 0; round < ROUNDS; round++) {
        written = 0;
        billed = 0;
        const t0 = cpuNow();
        for (const o of objects) {
          const out = f.encode(o.rows);
          written += out.bytes.length;
          billed += f.billing === 'uncompressed' ? out.uncompressed : out.bytes.length;
        }
        bestCpu = Math.min(bestCpu, cpuNow() - t0);
      }
      objects.forEach((o, i) => {
        writeFileSync(path.join(tmp, `${String(i).padStart(5, '0')}.${f.ext}`), f.encode(o.rows).bytes);
      });
      const bundle = await bundleBytes(f.bundleEntry);
      const duckdb = await roundTrip(tmp, f, objects);
      results[f.name] = {
        cpuSecondsPerGbOfLogs: +(bestCpu / (logBytes / 1e9)).toFixed(2),
        bytesWritten: written,
        bytesWrittenPerLogByte: +(written / logBytes).toFixed(4),
        bytesBilledBySnowpipe: billed,
        billedAs: f.billing,
        bytesBilledPerLogByte: +(billed / logBytes).toFixed(4),
        bundleBytesAdded: bundle,
        duckdb,
      };
      console.log(
        `${f.name}: ${(results[f.name] as { cpuSecondsPerGbOfLogs: number }).cpuSecondsPerGbOfLogs} CPU s/GB, written ${(written / 1e6).toFixed(1)} MB, billed ${(billed / 1e6).toFixed(1)} MB, bundle +${(bundle / 1024).toFixed(1)} KiB, DuckDB exact: ${duckdb.exact}`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const base = results['csv.gz'] as Record<string, number>;
  const ratios = Object.fromEntries(
    Object.entries(results).map(([name, r]) => {
      const x = r as Record<string, number>;
      return [
        name,
        {
          cpu: +(x.cpuSecondsPerGbOfLogs! / base.cpuSecondsPerGbOfLogs!).toFixed(2),
          bytesWritten: +(x.bytesWritten! / base.bytesWritten!).toFixed(3),
          bytesBilled: +(x.bytesBilledBySnowpipe! / base.bytesBilledBySnowpipe!).toFixed(3),
        },
      ];
    }),
  );
  console.log('ratios against csv.gz (lower is better):');
  for (const [name, r] of Object.entries(ratios))
    console.log(`  ${name}: CPU ×${r.cpu}, bytes written ×${r.bytesWritten}, bytes billed ×${r.bytesBilled}`);
  const out = {
    benchmark: 'formats',
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model.trim(),
      cores: os.cpus().length,
      node: process.version,
      loadAverageAtEnd: os.loadavg().map((x) => +x.toFixed(1)),
      note: 'shared machine: CPU time of this process (best of 3 rounds), not wall time',
    },
    input: {
      generator: 'local/sample/lines.ts seed 7',
      objects: objects.length,
      objectBytes: OBJECT_BYTES,
      logBytes,
      rows,
    },
    ingestBundleBytes: ingestBundle,
    results,
    ratiosAgainstCsvGz: ratios,
    snowflake: SNOWFLAKE_NOTES,
  };
  if (write) writeFileSync(resultsFile, `${JSON.stringify(out, null, 2)}\n`);
}

/** What cannot run here: Snowflake's typed load of each format, per its documentation. */
const SNOWFLAKE_NOTES = {
  measured: false,
  why: 'Snowflake cannot run on this machine; what follows is what its documentation says, unverified on a real account.',
  billing:
    'docs.snowflake.com/user-guide/data-load-snowpipe-billing (read 2026-11-30): per-GB Snowpipe billing charges text files (CSV, JSON, XML) on their uncompressed size and binary files (Parquet, Avro, ORC) on their observed size regardless of compression.',
  csv: 'COPY INTO a typed table casts each text field to the column type (NUMBER, BOOLEAN TRUE/FALSE, TIMESTAMP_TZ from the ISO-8601 string) through the named CSV file format; the table gives the types, the file carries none.',
  ndjson:
    'JSON loads through $1:field::type casts or MATCH_BY_COLUMN_NAME; every line repeats the key names, which are billed because JSON is billed on its uncompressed size.',
  parquet:
    'Parquet loads through $1:column::type or MATCH_BY_COLUMN_NAME; whether the TIMESTAMP(isAdjustedToUTC, MILLIS) logical type arrives as the same TIMESTAMP_TZ instant depends on the PARQUET file format options (USE_LOGICAL_TYPE) — unverified here.',
};

await main();
