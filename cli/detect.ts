/**
 * `s3-access-logs detect`: runs the detections of sql/detections/ over a window and prints their
 * findings as tables (or JSON), against Snowflake (the credentials of setup-snowflake) or, with
 * --local, the warehouse of the running `npm start` stack. `npm start` prints the same findings.
 *
 * The window defaults to the 24 hours up to the newest loaded request (see defaultWindow).
 */
import type { Command } from 'commander';
import type { Connection } from '../shared/snowflake/connection.ts';
import { ConfigError } from '../shared/config.ts';
import {
  DetectionError,
  defaultWindow,
  loadDetections,
  runDetections,
  scheduleTaskSql,
  unknownParams,
  type DetectionResult,
  type Window,
} from '../shared/snowflake/detections.ts';
import { CliError } from './errors.ts';
import { localStack } from './local-stack.ts';
import { renderTable } from './start.ts';

export interface DetectOptions {
  local?: boolean;
  dataDir: string;
  since?: string;
  until?: string;
  only?: string[];
  param?: string[];
  json?: boolean;
  secret?: string;
  printSchedule?: boolean;
  warehouse: string;
}

const COLUMNS = ['PRINCIPAL', 'SOURCE_IP', 'BUCKET', 'FIRST_SEEN', 'LAST_SEEN', 'REQUESTS', 'BYTES_OUT', 'EVIDENCE'];

function instant(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  // A bare date means its midnight UTC, as everywhere else in this tool.
  const text = /^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00Z` : value;
  const t = Date.parse(text);
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(t)) {
    throw new CliError(
      `${flag} must be an ISO date or time such as 2026-11-18 or 2026-11-18T06:00:00Z, got "${value}".`,
      2,
    );
  }
  return new Date(t);
}

function parseParams(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--param takes NAME=VALUE (e.g. --param min_bytes=500000000), got "${pair}".`, 2);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

type Selection = Pick<DetectOptions, 'since' | 'until' | 'only' | 'param'>;

/** Checks the arguments (before anything connects): the detections, parameters and window bounds. */
export function prepareDetect(opts: Selection) {
  const all = loadDetections();
  const only = opts.only?.flatMap((o) => o.split(',')).filter((o) => o !== '') ?? [];
  const missing = only.filter((o) => !all.some((d) => d.name === o));
  if (missing.length)
    throw new CliError(
      `no detection named ${missing.join(', ')}; the detections are: ${all.map((d) => d.name).join(', ')}.`,
      2,
    );
  const selected = only.length ? all.filter((d) => only.includes(d.name)) : all;
  const params = parseParams(opts.param);
  const unknown = unknownParams(selected, params);
  if (unknown.length)
    throw new CliError(
      `--param ${unknown.join(', ')}: no selected detection has such a parameter (see docs/detections.md).`,
      2,
    );
  const since = instant('--since', opts.since);
  const until = instant('--until', opts.until);
  if (since && until && since >= until) throw new CliError('--since must be before --until.', 2);
  return { selected, params, since, until };
}

/** Runs the selected detections on `conn`; the findings, or null when the table holds no rows. */
export async function detect(
  conn: Connection,
  opts: Selection,
): Promise<{ window: Window; results: DetectionResult[] } | null> {
  const { selected, params, since, until } = prepareDetect(opts);
  const window = await defaultWindow(conn, since, until);
  if (!window) return null;
  if (window.since >= window.until)
    throw new CliError(`--since ${opts.since} is after the newest loaded request; pass --until as well.`, 2);
  try {
    return { window, results: await runDetections(conn, selected, window, params) };
  } catch (err) {
    if (err instanceof DetectionError) throw new CliError(err.message);
    throw err;
  }
}

/** The findings as text: one heading per detection, a table under those that found something. */
export function formatFindings(window: Window, results: DetectionResult[]): string {
  const lines = [`Findings for ${window.since.toISOString()} .. ${window.until.toISOString()}:`];
  for (const { detection: d, rows } of results) {
    lines.push(
      '',
      `== ${d.name}  (${d.severity}, ${d.technique}): ${rows.length === 0 ? 'nothing found' : `${rows.length} finding${rows.length === 1 ? '' : 's'}`}`,
    );
    if (!rows.length) continue;
    // The evidence is what triage needs in full, so it goes under the table, not cut in a cell.
    const shown: Array<Record<string, unknown>> = rows.slice(0, 20).map((r, i) => ({ '#': i + 1, ...r }));
    lines.push(renderTable(['#', ...COLUMNS.filter((c) => c !== 'EVIDENCE')], shown, 20));
    for (const r of shown) lines.push(`  #${String(r['#'])} ${String(r.EVIDENCE ?? '')}`);
    if (rows.length > shown.length)
      lines.push(`  ... ${rows.length - shown.length} more finding(s); --json prints all`);
  }
  const total = results.reduce((n, r) => n + r.rows.length, 0);
  lines.push(
    '',
    `${total} finding${total === 1 ? '' : 's'} from ${results.length} detection${results.length === 1 ? '' : 's'}.`,
  );
  return lines.join('\n');
}

/**
 * A TIMESTAMP_TZ as snowflake-sdk hands it over (an object whose JSON is `2026-11-18 10:30:00.000
 * +0000`, or a Date) → ISO 8601 UTC, so JSON consumers need no Snowflake-specific parsing.
 */
export function isoTime(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  const text =
    v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function'
      ? (v as { toJSON: () => unknown }).toJSON()
      : v;
  if (typeof text !== 'string') return text ?? null;
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?) ?(Z|[+-]\d\d:?\d\d)$/.exec(text);
  if (!m) return text;
  const zone = m[3] === 'Z' ? 'Z' : `${m[3]!.slice(0, 3)}:${m[3]!.slice(-2)}`;
  const t = Date.parse(`${m[1]}T${m[2]}${zone}`);
  return Number.isNaN(t) ? text : new Date(t).toISOString();
}

/** One JSON object per finding, with its detection; times in ISO 8601 UTC. */
export function findingsJson(window: Window, results: DetectionResult[]): unknown {
  return {
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    findings: results.flatMap(({ detection: d, rows }) =>
      rows.map((r) => ({
        detection: d.name,
        severity: d.severity,
        technique: d.technique,
        ...Object.fromEntries(
          COLUMNS.map((c) => [c.toLowerCase(), c.endsWith('_SEEN') ? isoTime(r[c]) : (r[c] ?? null)]),
        ),
      })),
    ),
  };
}

async function withConnection<T>(opts: DetectOptions, run: (conn: Connection) => Promise<T>): Promise<T> {
  const { createConnectionProvider } = await import('../shared/snowflake/connection.ts');
  const { credentialsProvider } = await import('../shared/snowflake/credentials.ts');
  let source;
  let secrets;
  if (opts.local) {
    source = { kind: 'env' as const, credentials: localStack(opts.dataDir).snowflake };
  } else {
    const { resolveSource, secretsClientFor } = await import('./setup-snowflake.ts');
    source = resolveSource(opts, process.env);
    if (source.kind === 'secret') secrets = secretsClientFor(source.secretId);
  }
  const provider = createConnectionProvider(credentialsProvider(source, secrets));
  try {
    let conn;
    try {
      conn = await provider.get();
    } catch (err) {
      const why = err instanceof ConfigError ? err.problems.join(' ') : (err as Error).message;
      throw new CliError(`Could not connect to ${opts.local ? 'the local warehouse' : 'Snowflake'}: ${why}`);
    }
    return await run(conn);
  } finally {
    await provider.close();
  }
}

export function register(program: Command): void {
  const collect = (v: string, acc: string[] = []) => [...acc, v];
  program
    .command('detect')
    .description('Run the detections (sql/detections/) over a window and print their findings')
    .option('--local', 'use the stack that `s3-access-logs start` runs (found through <data-dir>/stack.json)')
    .option('--data-dir <dir>', 'data dir of the local stack (where stack.json is)', '.local')
    .option('--since <time>', 'window start, ISO date or time (default: 24 hours before --until)')
    .option('--until <time>', 'window end, exclusive (default: just after the newest loaded request)')
    .option('--only <name>', 'run only this detection (repeatable, or comma-separated)', collect)
    .option('--param <name=value>', 'override a detection parameter (repeatable; see docs/detections.md)', collect)
    .option('--json', 'print the findings as one JSON object')
    .option(
      '--secret <arn>',
      'read the Snowflake credentials from this Secrets Manager secret (default: as setup-snowflake)',
    )
    .option(
      '--print-schedule',
      'print the SQL of the optional daily task (sql/detections/schedule/02-task.sql) and exit',
    )
    .option('--warehouse <name>', 'with --print-schedule: the warehouse the task runs on', 'S3_ACCESS_LOGS_WH')
    .addHelpText(
      'after',
      '\nCredentials (without --local): as for setup-snowflake, --secret or SNOWFLAKE_SECRET_ARN, or the\n' +
        'SNOWFLAKE_* variables; the role needs SELECT on the table and the views of sql/08-* and sql/09-*.\n',
    )
    .action(async (opts: DetectOptions) => {
      if (opts.printSchedule) {
        if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(opts.warehouse))
          throw new CliError(
            `--warehouse must be a plain identifier (letters, digits, _ and $), got "${opts.warehouse}".`,
            2,
          );
        process.stdout.write(scheduleTaskSql(loadDetections(), opts.warehouse));
        return;
      }
      prepareDetect(opts); // a usage error is reported before connecting
      const found = await withConnection(opts, (conn) => detect(conn, opts));
      if (!found) {
        if (opts.json) process.stdout.write(`${JSON.stringify({ since: null, until: null, findings: [] })}\n`);
        else process.stdout.write('s3_access_logs holds no rows yet: nothing to look at.\n');
        return;
      }
      const text = opts.json
        ? JSON.stringify(findingsJson(found.window, found.results))
        : formatFindings(found.window, found.results);
      process.stdout.write(`${text}\n`);
    });
}
