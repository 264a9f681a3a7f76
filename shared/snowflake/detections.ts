/**
 * The detections of sql/detections/: reading their headers, binding their parameters, running them.
 * Used by `s3-access-logs detect` (real Snowflake or the local stack), `npm start` and the tests.
 *
 * Parameters: the convention of every SQL file with parameters (shared/snowflake/sql-params.ts).
 *   :since  window start (TIMESTAMP_TZ text) and :until  window end, exclusive: the runner's;
 *   :name   the file's own, declared in its header as `-- param: name = 'default'  description`.
 * Every value is bound as text and cast in the SQL (`:min_bytes::NUMBER`), so nothing is ever
 * spliced in, except into the scheduled task this module generates, which inlines the defaults.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from './connection.ts';

// snowflake-sdk is loaded when a detection first runs, not with this module: `detect --help` and the
// CLI's `--help` (which loads every command) would otherwise pay its quarter-second start-up.
const sdk = () => import('./connection.ts');
import { REPO_ROOT, splitSqlStatements } from './sql-files.ts';
import { bindParams, inlineParams, parseSqlTemplate, type SqlParam, type SqlTemplate } from './sql-params.ts';

/** A header's `-- param:` line; `''` is the empty string. */
export type DetectionParam = SqlParam;

/** What the runner binds in every detection: the window. */
const WINDOW_PARAMS = ['since', 'until'];

export interface Detection {
  /** The file name without `.sql`; what `--only` takes. */
  name: string;
  file: string;
  title: string;
  severity: 'high' | 'medium' | 'low';
  technique: string;
  params: DetectionParam[];
  /** The statement, header comments stripped, with its `:name` placeholders. */
  sql: string;
  /** The statement as a parameterised template (sql-params), for binding and for the schedule. */
  template: SqlTemplate;
}

export const DETECTIONS_DIR = path.join(REPO_ROOT, 'sql', 'detections');

export class DetectionError extends Error {}

/** Parses one detection file; a malformed header is an error naming the file. */
export function parseDetection(file: string, text: string): Detection {
  const base = path.basename(file, '.sql');
  const header = (key: string) => new RegExp(`^--\\s*${key}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
  const name = header('name');
  if (name !== base)
    throw new DetectionError(`${file}: the header "-- name: ${name ?? ''}" must equal the file name "${base}".`);
  const severity = header('severity');
  if (severity !== 'high' && severity !== 'medium' && severity !== 'low') {
    throw new DetectionError(`${file}: "-- severity:" must be high, medium or low.`);
  }
  const statements = splitSqlStatements(text);
  if (statements.length !== 1)
    throw new DetectionError(`${file} must hold exactly one statement, found ${statements.length}.`);
  let template: SqlTemplate;
  try {
    // The header's `-- param:` lines and the placeholders are checked here, at load.
    template = { ...parseSqlTemplate(file, text, { provided: WINDOW_PARAMS }), sql: statements[0]! };
  } catch (err) {
    throw new DetectionError((err as Error).message);
  }
  return {
    name,
    file,
    title: header('title') ?? name,
    severity,
    technique: header('technique') ?? '',
    params: template.params,
    sql: template.sql,
    template,
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
 * One detection's statement with `?` placeholders and its binds, in placeholder order: the window
 * and each parameter's override, else its default. `overrides` may name parameters of other
 * selected detections (ignored here); a name none of them has is the caller's error to report
 * (see `unknownParams`).
 */
export function bindsFor(
  d: Detection,
  window: Window,
  overrides: Record<string, string> = {},
): { sqlText: string; binds: Array<string | null> } {
  const own = Object.fromEntries(
    d.params.filter((p) => overrides[p.name] !== undefined).map((p) => [p.name, overrides[p.name]]),
  );
  return bindParams(d.template, { ...own, since: timestampText(window.since), until: timestampText(window.until) });
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
    const { execute } = await sdk();
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
  const { execute } = await sdk();
  const out: DetectionResult[] = [];
  for (const d of detections) {
    const t0 = performance.now();
    let rows: Array<Record<string, unknown>>;
    try {
      const { sqlText, binds } = bindsFor(d, window, overrides);
      rows = await execute<Record<string, unknown>>(conn, sqlText, binds);
    } catch (err) {
      throw new DetectionError(`detection ${d.name} failed: ${(err as Error).message}`);
    }
    out.push({ detection: d, rows, ms: performance.now() - t0 });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The optional production schedule (sql/detections/schedule/): one MERGE over every detection.

/** A SQL string literal, as Snowflake reads it (backslash is an escape there). */
function literal(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/**
 * The detection's statement with its placeholders replaced: :since and :until by the given SQL
 * expressions, the others by their defaults as string literals (the statement casts each one).
 * Only for the generated task (a task body takes no binds); the defaults come from the repository.
 */
export function inlineBinds(d: Detection, since: string, until: string): string {
  const defaults = Object.fromEntries(d.params.map((p) => [p.name, p.default === null ? 'NULL' : literal(p.default)]));
  try {
    return inlineParams(d.template, { ...defaults, since, until });
  } catch (err) {
    throw new DetectionError((err as Error).message);
  }
}

/**
 * One MERGE that runs every detection over [since, until) and records new findings in
 * s3_access_logs_findings, updating those already there (same detection, principal, IP, bucket
 * and first request): running it twice over a window adds nothing.
 */
export function findingsMergeSql(detections: Detection[], since: string, until: string): string {
  const cols = ['PRINCIPAL', 'SOURCE_IP', 'BUCKET', 'FIRST_SEEN', 'LAST_SEEN', 'REQUESTS', 'BYTES_OUT', 'EVIDENCE'];
  const sources = detections.map(
    (d) =>
      `  SELECT ${literal(d.name)} AS detection, ${literal(d.severity)} AS severity, ${literal(d.technique)} AS technique, ` +
      `${cols.map((c) => `f.${c.toLowerCase()}`).join(', ')}, (${since}) AS window_start, (${until}) AS window_end\n` +
      `  FROM (\n${inlineBinds(d, since, until).replace(/^/gm, '    ')}\n  ) f`,
  );
  const insertCols = [
    'detection',
    'severity',
    'technique',
    ...cols.map((c) => c.toLowerCase()),
    'window_start',
    'window_end',
  ];
  return [
    'MERGE INTO s3_access_logs_findings t',
    `USING (\n${sources.join('\n  UNION ALL\n')}\n) n`,
    'ON t.detection = n.detection AND EQUAL_NULL(t.principal, n.principal) AND EQUAL_NULL(t.source_ip, n.source_ip)',
    '  AND EQUAL_NULL(t.bucket, n.bucket) AND t.first_seen = n.first_seen',
    'WHEN MATCHED THEN UPDATE SET last_seen = n.last_seen, requests = n.requests, bytes_out = n.bytes_out, evidence = n.evidence,',
    '  window_end = n.window_end, updated_at = CURRENT_TIMESTAMP()',
    `WHEN NOT MATCHED THEN INSERT (${insertCols.join(', ')}, found_at)`,
    `  VALUES (${insertCols.map((c) => `n.${c}`).join(', ')}, CURRENT_TIMESTAMP())`,
  ].join('\n');
}

/** The schedule's window: the previous whole UTC day, run at 06:00 UTC when late logs are in. */
export const SCHEDULE = {
  cron: 'USING CRON 0 6 * * * UTC',
  since: "DATEADD('day', -1, DATE_TRUNC('day', CURRENT_TIMESTAMP()))",
  until: "DATE_TRUNC('day', CURRENT_TIMESTAMP())",
} as const;

/** sql/detections/schedule/02-task.sql, generated from the detection files (`npm run detections:schedule`). */
export function scheduleTaskSql(detections: Detection[], warehouse = 'S3_ACCESS_LOGS_WH'): string {
  return [
    '-- GENERATED by `npm run detections:schedule` from sql/detections/*.sql: do not edit by hand.',
    '--',
    '-- The optional daily detection run: a task that merges the findings of every detection over the',
    '-- previous UTC day into s3_access_logs_findings (01-findings.sql). A new task is SUSPENDED: it',
    '-- costs nothing until you run  ALTER TASK s3_access_logs_detect RESUME;  (re-applying this file',
    '-- replaces the task and suspends it again). Cost: README, "Detections"; docs/detections.md.',
    '-- Parameters are the defaults of each detection header; edit a header and regenerate to change one.',
    '',
    'CREATE OR REPLACE TASK s3_access_logs_detect',
    `  WAREHOUSE = ${warehouse}`,
    `  SCHEDULE = '${SCHEDULE.cron}'`,
    "  COMMENT = 's3-access-logs detections over the previous UTC day (sql/detections/)'",
    'AS',
    `${findingsMergeSql(detections, SCHEDULE.since, SCHEDULE.until)};`,
    '',
  ].join('\n');
}
