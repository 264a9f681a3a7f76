/**
 * `s3-access-logs parity --local`: does the fallback path's Python UDTF (sql/fallback/05-udtf.sql)
 * produce the same typed rows as the TypeScript parser the Lambda runs?
 *
 * Snowflake-local cannot run Python UDTFs, so the UDTF's handler is taken out of the SQL file (the
 * exact text between its `$$` delimiters, never a copy) and run with the local `python3`, once for
 * all lines. The same helpers back test/parity/fallback-udtf.test.ts.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { COLUMNS, type AccessLogRow, type Column, type ParseResult } from '../shared/access-log/columns.ts';
import { CliError } from './errors.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const UDTF_SQL_FILE = path.join(REPO_ROOT, 'sql', 'fallback', '05-udtf.sql');
export const UDTF_NAME = 'parse_s3_access_logs';
export const UDTF_HANDLER = 'S3AccessLogParser';

/**
 * The handler source of `CREATE ... FUNCTION parse_s3_access_logs`: the text between the `$$` that
 * follows the function's AS and the next `$$`, byte for byte.
 */
export function extractUdtfPython(sqlText: string): string {
  const create = new RegExp(`CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:SECURE\\s+)?FUNCTION\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${UDTF_NAME}\\s*\\(`, 'i').exec(sqlText);
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
export async function runUdtf(python: string, lines: readonly string[], python3 = process.env.PYTHON3 ?? 'python3'): Promise<UdtfTuple[][]> {
  const program = `${python}\n${HARNESS}`;
  const child = spawn(python3, ['-c', program], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`could not run ${python3}: ${e.message}. Install Python 3.11+ or set PYTHON3.`)));
    child.on('close', (code) => resolve(code ?? 1));
  });
  child.stdin.on('error', () => undefined); // a crash surfaces through the exit code and stderr
  // JSON keeps every line one physical line, whatever it contains (quotes, tabs, U+FFFD, …).
  child.stdin.end(lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : ''));
  const code = await done;
  if (code !== 0) throw new Error(`the UDTF handler failed under ${python3} (exit ${code}):\n${Buffer.concat(err).toString('utf8').slice(-4000)}`);
  const results = Buffer.concat(out).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as UdtfTuple[]);
  if (results.length !== lines.length) throw new Error(`the UDTF harness answered ${results.length} lines for ${lines.length} inputs`);
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
    lines: lines.length, bothAccept: 0, matching: 0, differing: 0, bothReject: 0,
    tsOnly: [], udtfOnly: [], perColumn: {}, differences: [], agreement: 1,
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

export function register(program: Command): void {
  program
    .command('parity')
    .description('Compare the fallback UDTF (sql/fallback/05-udtf.sql, run with python3) with the TypeScript parser on staged lines and typed rows.')
    .option('--local', 'use the stack that `s3-access-logs start` runs (found through <data-dir>/stack.json)')
    .action(async (opts: { local?: boolean }) => {
      if (!opts.local) {
        throw new CliError('parity needs --local: in Snowflake, run sql/checks/parity.sql instead.', 2);
      }
      throw new CliError('parity --local is not implemented yet.', 1);
    });
}
