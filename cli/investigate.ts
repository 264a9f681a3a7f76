/**
 * `s3-access-logs investigate [name] [--user …] [--key …] [--ip …] [--since …] [--until …]`: the
 * parameterised queries in sql/queries/ (shared/snowflake/sql-params.ts), listed without a name,
 * run with one. Each flag binds the parameter of the same name; unset ones keep the file's default,
 * which shows the sample's planted incident. A flag the investigation does not take is an error.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { bindParams, loadSqlTemplates, type SqlTemplate } from '../shared/snowflake/sql-params.ts';
import { REPO_ROOT } from '../shared/snowflake/sql-files.ts';
import { parseRange } from './dates.ts';
import { CliError } from './errors.ts';
import { formatResult, type OutputFormat } from './query.ts';
import { addWarehouseOptions, openWarehouse, warehouseKind, type WarehouseOptions } from './warehouse.ts';

export const QUERIES_DIR = path.join(REPO_ROOT, 'sql', 'queries');

/** The flags, by the parameter name they set. */
const PARAM_FLAGS = {
  user: ['--user <name>', 'requester: a full ARN, or the name after its last "/" (jdoe)'],
  key: ['--key <key>', 'object key, as logged (URL-encoded)'],
  prefix: ['--prefix <prefix>', 'every key under this prefix (replaces the default --key)'],
  bucket: ['--bucket <bucket>', 'bucket name'],
  ip: ['--ip <address>', 'client IP address'],
  since: ['--since <time>', 'from this time: YYYY-MM-DD (start of that UTC day) or an ISO instant'],
  until: [
    '--until <time>',
    'up to this time: YYYY-MM-DD (through the end of that UTC day) or an ISO instant (exclusive)',
  ],
} as const;
type ParamName = keyof typeof PARAM_FLAGS;

interface InvestigateOptions extends WarehouseOptions, Partial<Record<ParamName, string>> {
  format: OutputFormat;
}

export function listInvestigations(templates: SqlTemplate[]): string {
  const lines = ['Investigations (sql/queries/); run one with: s3-access-logs investigate <name> [flags]', ''];
  for (const t of templates) {
    lines.push(`  ${t.id.padEnd(20)} ${t.title}`);
    const flags = t.params.map((p) => (p.default === null ? `--${p.name}` : `--${p.name} (default ${p.default})`));
    if (flags.length) lines.push(`  ${''.padEnd(20)}   ${flags.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The values to bind for `t` from the flags: validated (dates, range, flags the query does not take)
 * before any warehouse is looked up. Times are bound as UTC ISO instants.
 */
export function investigationValues(
  t: SqlTemplate,
  opts: Partial<Record<ParamName, string>>,
): Record<string, string | null> {
  const given = (Object.keys(PARAM_FLAGS) as ParamName[]).filter((p) => opts[p] !== undefined);
  const takes = new Set(t.params.map((p) => p.name));
  for (const p of given) {
    if (!takes.has(p)) {
      const list = t.params.map((x) => `--${x.name}`).join(', ');
      throw new CliError(`${t.id} takes no --${p}${list ? ` (it takes ${list})` : ' (it takes no flags)'}.`, 2);
    }
  }
  const range = parseRange({ start: '--since', end: '--until' }, { start: opts.since, end: opts.until });
  const values: Record<string, string | null> = {};
  for (const p of given) values[p] = opts[p]!;
  if (range.start) values.since = range.start.toISOString();
  if (range.end) values.until = range.end.toISOString();
  if (opts.prefix !== undefined && opts.key === undefined && takes.has('key')) values.key = null;
  return values;
}

export function findInvestigation(templates: SqlTemplate[], name: string): SqlTemplate {
  const t = templates.find((x) => x.id === name || path.basename(x.file, '.sql') === name);
  if (!t)
    throw new CliError(
      `no investigation "${name}"; run "s3-access-logs investigate" to list them (${templates.map((x) => x.id).join(', ')}).`,
      2,
    );
  return t;
}

export function register(program: Command): void {
  const cmd = program
    .command('investigate')
    .description('List the investigations in sql/queries/, or run one with your user, key, IP and time range')
    .argument('[name]', 'the investigation to run (without it: the list)');
  for (const [, [flag, help]] of Object.entries(PARAM_FLAGS)) cmd.option(flag, help);
  cmd.addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'ndjson']).default('table'));
  addWarehouseOptions(cmd).action(async (name: string | undefined, opts: InvestigateOptions) => {
    const templates = loadSqlTemplates(QUERIES_DIR);
    if (name === undefined) {
      process.stdout.write(listInvestigations(templates));
      return;
    }
    const t = findInvestigation(templates, name);
    const { sqlText, binds } = bindParams(t, investigationValues(t, opts));
    warehouseKind(opts);
    const wh = await openWarehouse(opts);
    try {
      const result = await wh.run(sqlText, binds);
      if (opts.format === 'table') process.stdout.write(`== ${t.title}  (sql/queries/${path.basename(t.file)})\n`);
      process.stdout.write(formatResult(result, opts.format));
    } finally {
      await wh.close();
    }
  });
}
