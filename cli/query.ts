/**
 * `s3-access-logs query`: SQL against the local stack's warehouse or Snowflake (cli/warehouse.ts).
 *
 *   query "SELECT count(*) FROM s3_access_logs"     one statement
 *   query -f investigation.sql                      every statement of a file, in order
 *   query                                           a prompt on a terminal; statements from stdin otherwise
 *
 * Results print as the tables `npm start` prints, or with --format csv|ndjson for other programs.
 * A failing statement prints Snowflake's error code and message; at the prompt the session goes on.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { splitSqlStatements } from '../shared/snowflake/sql-files.ts';
import { CliError, describeFileError } from './errors.ts';
import { renderCsv, renderNdjson, renderTable } from './table.ts';
import {
  addWarehouseOptions,
  openWarehouse,
  warehouseKind,
  type QueryOutput,
  type Warehouse,
  type WarehouseOptions,
} from './warehouse.ts';

export type OutputFormat = 'table' | 'csv' | 'ndjson';

interface QueryOptions extends WarehouseOptions {
  file?: string;
  format: OutputFormat;
}

/** A result in the chosen format. Tables say how many rows and how long; csv/ndjson are data only. */
export function formatResult(r: QueryOutput, format: OutputFormat): string {
  if (format === 'csv') return renderCsv(r.columns, r.rows);
  if (format === 'ndjson') return renderNdjson(r.columns, r.rows);
  if (r.columns.length === 0) return `(done, ${Math.round(r.ms)} ms)\n`;
  return `${renderTable(r.columns, r.rows, Number.POSITIVE_INFINITY)}\n(${r.rows.length} row${r.rows.length === 1 ? '' : 's'}, ${Math.round(r.ms)} ms)\n`;
}

async function runAll(wh: Warehouse, statements: string[], format: OutputFormat): Promise<void> {
  for (const [i, sql] of statements.entries()) {
    if (i > 0 && format === 'table') process.stdout.write('\n');
    process.stdout.write(formatResult(await wh.run(sql), format));
  }
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/**
 * The prompt: statements end with `;` and may span lines; a failing one prints its error and the
 * session goes on. Ends on Ctrl-D, `\q`, `quit` or `exit`.
 */
export async function prompt(
  wh: Pick<Warehouse, 'where' | 'run'>,
  format: OutputFormat,
  io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; errors: NodeJS.WritableStream } = {
    input: process.stdin,
    output: process.stdout,
    errors: process.stderr,
  },
): Promise<void> {
  const readline = await import('node:readline');
  // On a terminal, readline gives line editing and history; piped (the tests) it just reads lines.
  const rl = readline.createInterface({
    input: io.input,
    output: io.output,
    terminal: Boolean((io.input as { isTTY?: boolean }).isTTY),
  });
  const ask = (q: string) => io.output.write(q);
  io.output.write(`Connected to ${wh.where}. End statements with ";". Ctrl-D or \\q quits.\n`);
  let buffer = '';
  ask('s3al> ');
  for await (const line of rl) {
    if (!buffer && /^\s*(\\q|quit|exit)\s*;?\s*$/i.test(line)) break;
    buffer += `${line}\n`;
    if (/;\s*$/.test(line)) {
      const statements = splitSqlStatements(buffer);
      buffer = '';
      for (const sql of statements) {
        try {
          io.output.write(formatResult(await wh.run(sql), format));
        } catch (err) {
          io.errors.write(`${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
    }
    ask(buffer ? '   ...> ' : 's3al> ');
  }
  rl.close();
}

export function register(program: Command): void {
  const cmd = program
    .command('query')
    .description("Run SQL against the local stack's warehouse or Snowflake: one statement, a file (-f), or a prompt")
    .argument('[sql]', 'the statement to run (quote it); without it and -f: a prompt, or statements read from stdin')
    .option('-f, --file <file>', 'run every statement in this SQL file, in order')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'ndjson']).default('table'));
  addWarehouseOptions(cmd).action(async (sql: string | undefined, opts: QueryOptions) => {
    // Everything about the flags is checked before a stack or credentials are looked up.
    if (sql !== undefined && opts.file !== undefined)
      throw new CliError('give the SQL as an argument or with -f FILE, not both.', 2);
    warehouseKind(opts);
    let statements: string[] | undefined;
    if (opts.file !== undefined) {
      let text: string;
      try {
        text = readFileSync(opts.file, 'utf8');
      } catch (err) {
        throw new CliError(`-f: ${describeFileError(opts.file, err)}`, 1);
      }
      statements = splitSqlStatements(text);
      if (statements.length === 0) throw new CliError(`-f: ${opts.file} holds no SQL statement.`, 1);
    } else if (sql !== undefined) {
      statements = splitSqlStatements(sql);
      if (statements.length === 0) throw new CliError('the SQL argument is empty.', 2);
    } else if (!process.stdin.isTTY) {
      statements = splitSqlStatements(await readStdin());
      if (statements.length === 0) throw new CliError('no SQL statement on standard input.', 2);
    }
    const wh = await openWarehouse(opts);
    try {
      if (statements) await runAll(wh, statements, opts.format);
      else await prompt(wh, opts.format);
    } finally {
      await wh.close();
    }
  });
}
