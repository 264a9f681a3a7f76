/**
 * The detections of sql/detections/: reading their headers, binding their parameters, running them.
 * Used by `s3-access-logs detect` (real Snowflake or the local stack), `npm start` and the tests.
 *
 * Parameter convention (every file): the statement reads its parameters as numbered binds.
 *   :1  since  window start (TIMESTAMP_TZ text), :2  until  window end, exclusive
 *   :3… the file's own parameters, in the order of its `-- param: NAME DEFAULT  description` lines.
 * Every value is bound as text and cast in the SQL (`:3::NUMBER`), so nothing is ever spliced in.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execute, type Connection } from './connection.ts';
import { REPO_ROOT, splitSqlStatements } from './sql-files.ts';

export interface DetectionParam {
  name: string;
  /** As written in the header; `''` is the empty string. */
  default: string;
  description: string;
}

export interface Detection {
  /** The file name without `.sql`; what `--only` takes. */
  name: string;
  file: string;
  title: string;
  severity: 'high' | 'medium' | 'low';
  technique: string;
  params: DetectionParam[];
  sql: string;
}

export const DETECTIONS_DIR = path.join(REPO_ROOT, 'sql', 'detections');

const PARAM_NAME = /^[a-z][a-z0-9_]*$/;

export class DetectionError extends Error {}

/** Parses one detection file; a malformed header is an error naming the file. */
export function parseDetection(file: string, text: string): Detection {
  const base = path.basename(file, '.sql');
  const header = (key: string) => new RegExp(`^--\\s*${key}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
  const name = header('name');
  if (name !== base) throw new DetectionError(`${file}: the header "-- name: ${name ?? ''}" must equal the file name "${base}".`);
  const severity = header('severity');
  if (severity !== 'high' && severity !== 'medium' && severity !== 'low') {
    throw new DetectionError(`${file}: "-- severity:" must be high, medium or low.`);
  }
  const params: DetectionParam[] = [];
  for (const m of text.matchAll(/^--\s*param:\s*(\S+)\s+('(?:[^']|'')*'|\S+)\s*(.*)$/gm)) {
    const raw = m[2]!;
    const value = raw.startsWith("'") ? raw.slice(1, -1).replaceAll("''", "'") : raw;
    if (!PARAM_NAME.test(m[1]!)) throw new DetectionError(`${file}: bad parameter name "${m[1]}".`);
    params.push({ name: m[1]!, default: value, description: m[3]!.trim() });
  }
  const statements = splitSqlStatements(text);
  if (statements.length !== 1) throw new DetectionError(`${file} must hold exactly one statement, found ${statements.length}.`);
  return {
    name,
    file,
    title: header('title') ?? name,
    severity,
    technique: header('technique') ?? '',
    params,
    sql: statements[0]!,
  };
}

export function loadDetections(dir: string = DETECTIONS_DIR): Detection[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseDetection(path.join(dir, f), readFileSync(path.join(dir, f), 'utf8')));
}

export interface Window {
  since: Date;
  until: Date;
}

/** Text Snowflake and snowflake-local both read as a TIMESTAMP_TZ: `2026-11-18 23:59:59.000 +00:00`. */
export function timestampText(d: Date): string {
  return `${d.toISOString().replace('T', ' ').replace('Z', '')} +00:00`;
}

/**
 * The binds of one detection: since, until, then each parameter's override or default.
 * `overrides` maps parameter names to values; a name no selected detection has is the caller's
 * error to report (see `unknownParams`).
 */
export function bindsFor(d: Detection, window: Window, overrides: Record<string, string> = {}): string[] {
  return [timestampText(window.since), timestampText(window.until), ...d.params.map((p) => overrides[p.name] ?? p.default)];
}

export function unknownParams(detections: Detection[], overrides: Record<string, string>): string[] {
  const known = new Set(detections.flatMap((d) => d.params.map((p) => p.name)));
  return Object.keys(overrides).filter((k) => !known.has(k));
}

export interface DetectionResult {
  detection: Detection;
  rows: Array<Record<string, unknown>>;
  ms: number;
}

/**
 * The default window: the 24 hours up to the newest request loaded (not the clock: logs arrive
 * hours late, and a replayed or sample data set would otherwise look empty). null when the table
 * is empty.
 */
export async function defaultWindow(conn: Connection, since?: Date, until?: Date): Promise<Window | null> {
  let end = until;
  if (!end) {
    const [row] = await execute<{ NEWEST: unknown }>(conn, 'SELECT MAX(requestdatetime) AS newest FROM s3_access_logs');
    if (row?.NEWEST === null || row?.NEWEST === undefined) return null;
    // Exclusive end: one millisecond past the newest request includes it.
    end = new Date(new Date(row.NEWEST as string | Date).getTime() + 1);
  }
  return { since: since ?? new Date(end.getTime() - 24 * 3600 * 1000), until: end };
}

export async function runDetections(
  conn: Connection,
  detections: Detection[],
  window: Window,
  overrides: Record<string, string> = {},
): Promise<DetectionResult[]> {
  const out: DetectionResult[] = [];
  for (const d of detections) {
    const t0 = performance.now();
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await execute<Record<string, unknown>>(conn, d.sql, bindsFor(d, window, overrides));
    } catch (err) {
      throw new DetectionError(`detection ${d.name} failed: ${(err as Error).message}`);
    }
    out.push({ detection: d, rows, ms: performance.now() - t0 });
  }
  return out;
}
