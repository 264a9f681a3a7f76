/**
 * `s3-access-logs parity --local`: does the fallback path's Python UDTF (sql/fallback/02-udtf.sql)
 * produce the same typed rows as the TypeScript parser the Lambda runs?
 *
 * Snowflake-local cannot run Python UDTFs, so the UDTF's handler is taken out of the SQL file (the
 * exact text between its `$$` delimiters, never a copy) and run with the local `python3`, once for
 * all lines. The same helpers back test/parity/fallback-udtf.test.ts.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { COLUMNS, type AccessLogRow, type Column, type ParseResult } from '../shared/access-log/columns.ts';
import { REPO_ROOT } from '../shared/snowflake/sql-files.ts';
import { CliError } from './errors.ts';
import { localStack } from './local-stack.ts';

export { REPO_ROOT };
export const UDTF_SQL_FILE = path.join(REPO_ROOT, 'sql', 'fallback', '02-udtf.sql');
export const UDTF_NAME = 'parse_s3_access_logs';
export const UDTF_HANDLER = 'S3AccessLogParser';

/**
 * The handler source of `CREATE ... FUNCTION parse_s3_access_logs`: the text between the `$$` that
 * follows the function's AS and the next `$$`, byte for byte.
 */
export function extractUdtfPython(sqlText: string): string {
  const create = new RegExp(
    `CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:SECURE\\s+)?FUNCTION\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${UDTF_NAME}\\s*\\(`,
    'i',
  ).exec(sqlText);
  if (!create) throw new Error(`no CREATE FUNCTION ${UDTF_NAME} in the UDTF SQL file`);
  const open = sqlText.indexOf('$$', create.index);
  const close = open < 0 ? -1 : sqlText.indexOf('$$', open + 2);
  if (open < 0 || close < 0) throw new Error(`the ${UDTF_NAME} body is not enclosed in $$ … $$`);
  return sqlText.slice(open + 2, close);
}

export async function readUdtfPython(file = UDTF_SQL_FILE): Promise<string> {
  return extractUdtfPython(await readFile(file, 'utf8'));
}

/** One UDTF output row: the 28 parser columns in table order, then `reject_reason`. */
export type UdtfTuple = unknown[];

/**
 * What the harness does with the handler, mirroring Snowflake: one handler instance, `process(log)`
 * called once per input row, every yielded tuple collected. One JSON line in, one JSON array of
 * tuples out, so that a line yielding zero or two rows is visible as such.
 */
const HARNESS = `
import sys as _sys, json as _json
_handler = ${UDTF_HANDLER}()
_out = _sys.stdout
for _raw in _sys.stdin:
    _line = _json.loads(_raw)
    _rows = [list(_t) for _t in _handler.process(_line)]
    _out.write(_json.dumps(_rows) + "\\n")
_out.flush()
`;

/** Runs the UDTF handler over `lines` in a single python3 process; returns each line's tuples. */
export async function runUdtf(
  python: string,
  lines: readonly string[],
  python3 = process.env.PYTHON3 ?? 'python3',
): Promise<UdtfTuple[][]> {
  const program = `${python}\n${HARNESS}`;
  const child = spawn(python3, ['-c', program], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', (e) =>
      reject(new Error(`could not run ${python3}: ${e.message}. Install Python 3.11+ or set PYTHON3.`)),
    );
    child.on('close', (code) => resolve(code ?? 1));
  });
  child.stdin.on('error', () => undefined); // a crash surfaces through the exit code and stderr
  // JSON keeps every line one physical line, whatever it contains (quotes, tabs, U+FFFD, …).
  child.stdin.end(lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : ''));
  const code = await done;
  if (code !== 0)
    throw new Error(
      `the UDTF handler failed under ${python3} (exit ${code}):\n${Buffer.concat(err).toString('utf8').slice(-4000)}`,
    );
  const results = Buffer.concat(out)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as UdtfTuple[]);
  if (results.length !== lines.length)
    throw new Error(`the UDTF harness answered ${results.length} lines for ${lines.length} inputs`);
  return results;
}

/** A UDTF tuple read back as the parser's result type; malformed tuples are reported, not coerced. */
export function udtfTupleToResult(tuple: UdtfTuple): ParseResult {
  if (tuple.length !== COLUMNS.length + 1) return { ok: false, reason: `udtf-shape: ${tuple.length} columns` };
  const reason = tuple[COLUMNS.length];
  if (reason !== null) {
    const others = tuple.slice(0, COLUMNS.length).filter((v) => v !== null).length;
    return { ok: false, reason: others ? `udtf-shape: reject with ${others} non-null columns` : String(reason) };
  }
  const row = Object.fromEntries(COLUMNS.map((c, i) => [c, tuple[i]])) as unknown as AccessLogRow;
  return { ok: true, row };
}

export interface ParityLine {
  /** Where the line came from (file:line, or bucket/key:line). */
  where: string;
  raw: string;
  ts: ParseResult;
  udtf: ParseResult;
}

export interface ColumnDifference {
  where: string;
  column: Column;
  ts: unknown;
  udtf: unknown;
  raw: string;
}

export interface ParityReport {
  lines: number;
  bothAccept: number;
  matching: number;
  differing: number;
  bothReject: number;
  /** Accepted by the TypeScript parser, rejected by the UDTF (and the other way round). */
  tsOnly: Array<{ where: string; raw: string; reason: string }>;
  udtfOnly: Array<{ where: string; raw: string; reason: string }>;
  perColumn: Partial<Record<Column, number>>;
  differences: ColumnDifference[];
  /** matching / bothAccept; 1 when nothing was accepted by both. */
  agreement: number;
}

export function compareParity(lines: readonly ParityLine[]): ParityReport {
  const report: ParityReport = {
    lines: lines.length,
    bothAccept: 0,
    matching: 0,
    differing: 0,
    bothReject: 0,
    tsOnly: [],
    udtfOnly: [],
    perColumn: {},
    differences: [],
    agreement: 1,
  };
  for (const l of lines) {
    if (l.ts.ok && l.udtf.ok) {
      report.bothAccept++;
      let same = true;
      for (const column of COLUMNS) {
        const a = l.ts.row[column];
        const b = l.udtf.row[column];
        if (!Object.is(a, b)) {
          same = false;
          report.perColumn[column] = (report.perColumn[column] ?? 0) + 1;
          report.differences.push({ where: l.where, column, ts: a, udtf: b, raw: l.raw });
        }
      }
      if (same) report.matching++;
      else report.differing++;
    } else if (l.ts.ok && !l.udtf.ok) {
      report.tsOnly.push({ where: l.where, raw: l.raw, reason: l.udtf.reason });
    } else if (!l.ts.ok && l.udtf.ok) {
      report.udtfOnly.push({ where: l.where, raw: l.raw, reason: l.ts.reason });
    } else {
      report.bothReject++;
    }
  }
  report.agreement = report.bothAccept ? report.matching / report.bothAccept : 1;
  return report;
}

function clip(s: string, n = 160): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

export function formatParityReport(r: ParityReport, title = 'UDTF vs TypeScript parser'): string {
  const pct = (r.agreement * 100).toFixed(3);
  const out = [
    `${title}`,
    `  lines compared:        ${r.lines}`,
    `  accepted by both:      ${r.bothAccept}`,
    `    matching rows:       ${r.matching}`,
    `    differing rows:      ${r.differing}`,
    `  rejected by both:      ${r.bothReject}`,
    `  accepted by TS only:   ${r.tsOnly.length}`,
    `  accepted by UDTF only: ${r.udtfOnly.length}`,
    `  agreement:             ${pct}% of lines both accept (${r.matching}/${r.bothAccept})`,
  ];
  const cols = Object.entries(r.perColumn);
  if (cols.length) {
    out.push('  differing per column:');
    for (const [c, n] of cols) out.push(`    ${c.padEnd(16)} ${n}`);
  }
  for (const d of r.differences.slice(0, 20)) {
    out.push(`  ${d.where} ${d.column}: ts=${JSON.stringify(d.ts)} udtf=${JSON.stringify(d.udtf)}`);
  }
  for (const d of r.tsOnly.slice(0, 20)) out.push(`  ${d.where} rejected by UDTF only (${d.reason}): ${clip(d.raw)}`);
  for (const d of r.udtfOnly.slice(0, 20)) out.push(`  ${d.where} rejected by TS only (${d.reason}): ${clip(d.raw)}`);
  return out.join('\n');
}

/** One staged (or re-read) raw line with its lineage. */
export interface RawLine {
  logbucket: string;
  logkey: string;
  logline: number;
  raw: string;
}

/** A typed row read back from the warehouse: TIMESTAMP_TZ → the parser's ISO text, numbers as numbers. */
export function warehouseRowToAccessLogRow(r: Record<string, unknown>): AccessLogRow {
  const get = (c: string) => r[c.toUpperCase()] ?? r[c] ?? null;
  const row: Record<string, unknown> = {};
  for (const c of COLUMNS) {
    const v = get(c);
    if (c === 'requestdatetime') row[c] = v === null ? null : isoSecond(v);
    else if (typeof v === 'bigint') row[c] = Number(v);
    else if (
      ['httpstatus', 'bytessent', 'objectsize', 'totaltime', 'turnaroundtime'].includes(c) &&
      typeof v === 'string'
    )
      row[c] = Number(v);
    else if (c === 'aclrequired' && typeof v === 'string') row[c] = v.toLowerCase() === 'true';
    else row[c] = v;
  }
  return row as unknown as AccessLogRow;
}

function isoSecond(v: unknown): string {
  const d =
    v instanceof Date
      ? v
      : new Date(
          typeof v === 'object' && v !== null && 'toJSON' in v
            ? String((v as { toJSON(): string }).toJSON())
            : String(v),
        );
  if (Number.isNaN(d.getTime())) return String(v);
  return `${d.toISOString().slice(0, 19)}Z`;
}

export interface LocalParityReport {
  source: 'staging' | 's3';
  /** Lines read (staged or re-read from S3). */
  lines: number;
  /** Lines of objects the Lambda did not type (raw mode awaiting the task, or unknown): not compared. */
  notCompared: number;
  /** Compared lines for which the warehouse holds neither a typed row nor a reject. */
  missingTyped: number;
  /** Typed rows of compared objects with no raw line. */
  missingRaw: number;
  report: ParityReport;
}

const key3 = (b: string, k: string, l: number) => `${b}\u0000${k}\u0000${l}`;

/**
 * The comparison behind `parity --local`: the UDTF over raw lines vs the typed rows and rejects the
 * Lambda wrote for the same (logbucket, logkey, logline), for objects with ledger mode 'parsed'.
 */
export async function compareWithWarehouse(
  run: (sql: string) => Promise<Array<Record<string, unknown>>>,
  rawLines: RawLine[],
  source: 'staging' | 's3',
  python: string,
): Promise<LocalParityReport> {
  // Column names as Snowflake returns them (upper case), whatever the caller's driver does.
  const query = async (sql: string) =>
    (await run(sql)).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toUpperCase(), v])));
  const ledger = await query(`SELECT logbucket, logkey, mode FROM s3_access_logs_loads`);
  const parsedObjects = new Set(
    ledger.filter((r) => r.MODE === 'parsed').map((r) => `${r.LOGBUCKET}\u0000${r.LOGKEY}`),
  );
  const compared = rawLines.filter((l) => parsedObjects.has(`${l.logbucket}\u0000${l.logkey}`));
  const typed = new Map<string, AccessLogRow>();
  const comparedObjects = new Set(compared.map((l) => `${l.logbucket}\u0000${l.logkey}`));
  for (const r of await query(`SELECT ${COLUMNS.join(', ')}, logbucket, logkey, logline FROM s3_access_logs`)) {
    if (!comparedObjects.has(`${r.LOGBUCKET}\u0000${r.LOGKEY}`)) continue;
    typed.set(key3(String(r.LOGBUCKET), String(r.LOGKEY), Number(r.LOGLINE)), warehouseRowToAccessLogRow(r));
  }
  const rejects = new Map<string, string>();
  for (const r of await query(`SELECT logbucket, logkey, logline, reason FROM s3_access_logs_rejects`)) {
    rejects.set(key3(String(r.LOGBUCKET), String(r.LOGKEY), Number(r.LOGLINE)), String(r.REASON));
  }
  const tuples = await runUdtf(
    python,
    compared.map((l) => l.raw),
  );
  const lines: ParityLine[] = [];
  let missingTyped = 0;
  const seen = new Set<string>();
  compared.forEach((l, i) => {
    const k = key3(l.logbucket, l.logkey, l.logline);
    seen.add(k);
    const row = typed.get(k);
    const reason = rejects.get(k);
    if (!row && reason === undefined) {
      missingTyped++;
      return;
    }
    const out = tuples[i]!;
    const udtf: ParseResult =
      out.length === 1 ? udtfTupleToResult(out[0]!) : { ok: false, reason: `udtf-shape: ${out.length} rows` };
    lines.push({
      where: `s3://${l.logbucket}/${l.logkey}:${l.logline}`,
      raw: l.raw,
      ts: row ? { ok: true, row } : { ok: false, reason: reason! },
      udtf,
    });
  });
  const missingRaw = [...typed.keys()].filter((k) => !seen.has(k)).length;
  return {
    source,
    lines: rawLines.length,
    notCompared: rawLines.length - compared.length,
    missingTyped,
    missingRaw,
    report: compareParity(lines),
  };
}

export function formatLocalParityReport(r: LocalParityReport): string {
  return [
    formatParityReport(
      r.report,
      `Parity on the local stack: UDTF (sql/fallback/02-udtf.sql, python3) vs the Lambda's typed rows (raw lines from ${r.source === 'staging' ? 's3_access_logs_staging' : 'the log objects in S3'})`,
    ),
    `  raw lines read:        ${r.lines}`,
    `  not compared:          ${r.notCompared} (objects not typed by the Lambda: ledger mode raw/task or no ledger row)`,
    `  missing typed:         ${r.missingTyped} (raw line with neither typed row nor reject)`,
    `  missing raw:           ${r.missingRaw} (typed row with no raw line)`,
  ].join('\n');
}

/** Raw lines of the objects the Lambda typed, re-read from the local S3 as Snowpipe would stage them. */
async function rawLinesFromS3(
  query: (sql: string) => Promise<Array<Record<string, unknown>>>,
  s3Config: { endpoint: string; region: string },
): Promise<RawLine[]> {
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const { readLogRecords } = await import('../shared/access-log/formats/index.ts');
  const s3 = new S3Client({
    ...s3Config,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const out: RawLine[] = [];
  try {
    const objects = await query(
      `SELECT logbucket, logkey FROM s3_access_logs_loads WHERE mode = 'parsed' ORDER BY logbucket, logkey`,
    );
    for (const o of objects) {
      const bucket = String(o.LOGBUCKET);
      const key = String(o.LOGKEY);
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      // As raw mode stages them: JSON/Parquet records as their text line (the UDTF reads text only).
      for await (const p of readLogRecords(res.Body as AsyncIterable<Uint8Array>, { rawAs: 'text' }))
        out.push({ logbucket: bucket, logkey: key, logline: p.line, raw: p.raw });
    }
  } finally {
    s3.destroy();
  }
  return out;
}

async function runLocalParity(dataDir: string, fromS3: boolean): Promise<LocalParityReport> {
  const { info, snowflake: credentials } = localStack(dataDir);
  const python = await readUdtfPython();
  const { default: snowflake } = await import('snowflake-sdk');
  const { configureSnowflakeSdk, connect, connectionOptions, execute } = await import(
    '../shared/snowflake/connection.ts'
  );
  configureSnowflakeSdk();
  const conn = snowflake.createConnection(connectionOptions(credentials));
  try {
    await connect(conn);
  } catch (err) {
    throw new CliError(
      `cannot connect to the local warehouse at ${info.snowflakeUrl}: ${(err as Error).message}. Is "npm start" still running?`,
      1,
    );
  }
  const query = (sql: string) => execute<Record<string, unknown>>(conn, sql);
  try {
    const lines = fromS3
      ? await rawLinesFromS3(query, { endpoint: info.awsEndpoint, region: info.region })
      : (await query('SELECT logbucket, logkey, logline, raw FROM s3_access_logs_staging')).map((r) => ({
          logbucket: String(r.LOGBUCKET),
          logkey: String(r.LOGKEY),
          logline: Number(r.LOGLINE),
          raw: String(r.RAW),
        }));
    return await compareWithWarehouse(query, lines, fromS3 ? 's3' : 'staging', python);
  } finally {
    await new Promise<void>((resolve) => conn.destroy(() => resolve()));
  }
}

export function register(program: Command): void {
  program
    .command('parity')
    .description(
      'Compare the fallback UDTF (sql/fallback/02-udtf.sql, run with python3) with the typed rows the Lambda wrote, line by line. In Snowflake, run sql/checks/parity.sql instead.',
    )
    .option('--local', 'use the stack that `s3-access-logs start` runs (found through <data-dir>/stack.json)')
    .option('--data-dir <dir>', 'data dir of the local stack (where stack.json is)', '.local')
    .option(
      '--from-s3',
      'read the raw lines of the Lambda-typed objects from the local S3 bucket, what the stack actually loaded (the default)',
    )
    .option(
      '--from-staging',
      'read the raw lines from s3_access_logs_staging instead (what Snowpipe staged on the fallback path)',
    )
    .option('--min-agreement <percent>', 'exit 1 when agreement is below this percentage of lines both accept', '99.9')
    .action(
      async (opts: {
        local?: boolean;
        dataDir: string;
        fromS3?: boolean;
        fromStaging?: boolean;
        minAgreement: string;
      }) => {
        if (!opts.local) {
          throw new CliError(
            'parity runs against the local stack only: pass --local (in Snowflake, run sql/checks/parity.sql).',
            2,
          );
        }
        if (opts.fromS3 && opts.fromStaging)
          throw new CliError('--from-s3 and --from-staging exclude each other; pick where the raw lines come from.', 2);
        const min = Number(opts.minAgreement);
        if (!Number.isFinite(min) || min < 0 || min > 100)
          throw new CliError(`--min-agreement must be a percentage (0..100), got "${opts.minAgreement}".`, 2);
        const fromS3 = !opts.fromStaging;
        const result = await runLocalParity(opts.dataDir, fromS3);
        process.stdout.write(`${formatLocalParityReport(result)}\n`);
        // Nothing compared proves nothing: never report 100% for it.
        if (result.report.lines === 0) {
          throw new CliError(
            fromS3
              ? 'nothing was compared: the ledger lists no object the Lambda typed yet; load some logs first (npm start loads a sample).'
              : 'nothing was compared: s3_access_logs_staging holds no line of an object the Lambda typed; drop --from-staging to compare the objects in S3.',
            1,
          );
        }
        // Differing columns are tolerated up to --min-agreement; a lost line or a flipped accept/reject is not.
        const failures = result.report.tsOnly.length + result.report.udtfOnly.length + result.missingTyped;
        if (result.report.agreement * 100 < min || failures > 0) {
          throw new CliError(
            `parity: ${result.report.differing} differing rows, ${result.report.tsOnly.length + result.report.udtfOnly.length} accept/reject disagreements, ${result.missingTyped} missing typed rows (agreement ${(result.report.agreement * 100).toFixed(3)}%).`,
            1,
          );
        }
      },
    );
}
