/**
 * `s3-access-logs start` (= `npm start`): the whole pipeline on embedded stand-ins (local/stack.ts),
 * loaded with a deterministic sample (or `--logs DIR`), then the investigation queries printed as
 * tables. Without `--once` it keeps running, printing endpoints and credentials, until Ctrl-C.
 *
 * stdout: status, summary, query tables; with `--json` the last line is the JSON summary.
 * stderr: the progress bar (only on a terminal) and errors.
 */
import path from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { LogLevel } from '../shared/config.ts';
import { WAREHOUSE_FILE } from '../local/stack-info.ts';
import { localOverrides } from '../local/settings.ts';
import { CliError } from './errors.ts';
import { renderTable } from './table.ts';

interface StartOptions {
  awsPort: number;
  snowflakePort: number;
  dataDir: string;
  logs?: string;
  once?: boolean;
  json?: boolean;
  seed: string;
  logLevel: string;
  loadMethod: string;
}

function port(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > 65535)
      throw new CliError(`${flag} must be a port number 0..65535 (0 = any free port), got "${value}".`, 2);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('start')
    .description(
      'Run the whole pipeline locally (S3+SQS emulator, notification bridge, ingest, snowflake-local), load sample logs, print the investigations',
    )
    .option('--aws-port <port>', 'S3+SQS emulator port (0 = any free port)', port('--aws-port'), 4566)
    .option('--snowflake-port <port>', 'snowflake-local port (0 = any free port)', port('--snowflake-port'), 8085)
    .option('--data-dir <dir>', 'where the warehouse (DuckDB) and stack.json live', '.local')
    .option('--logs <dir>', 'load the S3 access log files in this directory instead of the generated sample')
    .option('--seed <seed>', 'seed of the generated sample', '20261116')
    .option('--once', 'exit after the summary and the queries')
    .option('--json', 'print the summary as JSON on the last line of stdout')
    .option(
      '--load-method <method>',
      'pipe (staged files loaded by Snowpipe) or insert (Snowflake transactions)',
      'pipe',
    )
    .option(
      '--log-level <level>',
      'ingest log level (DEBUG, INFO, WARN, ERROR, SILENT); its JSON lines go to stdout',
      'ERROR',
    )
    .addHelpText('after', settingsHelp)
    .action(async (opts: StartOptions) => {
      await start(opts);
    });
}

/** Where the stack's queue settings come from, and the local overrides with their reasons. */
function settingsHelp(): string {
  const lines = localOverrides().map((o) => `  ${o.setting}: ${o.local} (deployed ${o.deployed}): ${o.why}.`);
  return [
    '',
    'The queue and the ingest poller use the deployed settings (shared/ingest-settings.json: batch size,',
    'concurrency, receives before the DLQ, retention), except for these local overrides:',
    ...lines,
  ].join('\n');
}

const out = (s = '') => process.stdout.write(`${s}\n`);

type Method = 'pipe' | 'insert';
type StackModule = typeof import('../local/stack.ts');
type Stack = Awaited<ReturnType<StackModule['startStack']>>;
type Summary = Awaited<ReturnType<Stack['load']>>;

/** The steps of `start`: check flags, start the stack, load, print, then wait for Ctrl-C (unless --once). */
async function start(opts: StartOptions): Promise<void> {
  const { level, method } = checkFlags(opts);
  // Imported here so that `--help` stays fast.
  const mod = await import('../local/stack.ts');
  const seed = /^\d+$/.test(opts.seed) ? Number(opts.seed) : opts.seed;
  const t0 = performance.now();
  const live = { reporting: false };
  const stack = await launch(mod, opts, level, method, live);
  const signals = interrupts(stack);
  try {
    printStack(stack, opts, method, performance.now() - t0, seed);
    const summary = await loadWithProgress(mod, stack, opts, seed, signals);
    printSummary(summary, method);
    await printFindings(stack);
    if (!opts.once) printRunning(stack.info, opts, mod.STACK_FILE);
    if (opts.json) printJson(summary, method);
    if (!opts.once) {
      live.reporting = true;
      await signals.ctrlC();
    }
  } finally {
    signals.dispose();
    if (!opts.once) process.stderr.write('Stopping...\n');
    await stack.stop();
  }
}

function checkFlags(opts: StartOptions): { level: LogLevel; method: Method } {
  const level = opts.logLevel.toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'].includes(level)) {
    throw new CliError(`--log-level must be DEBUG, INFO, WARN, ERROR or SILENT, got "${opts.logLevel}".`, 2);
  }
  const method = opts.loadMethod.toLowerCase();
  if (method !== 'pipe' && method !== 'insert')
    throw new CliError(`--load-method must be pipe or insert, got "${opts.loadMethod}".`, 2);
  return { level: level as LogLevel, method };
}

/** The stack, reporting batches that arrive after the first load once `live.reporting` is set. */
async function launch(
  mod: StackModule,
  opts: StartOptions,
  level: LogLevel,
  method: Method,
  live: { reporting: boolean },
): Promise<Stack> {
  try {
    if (opts.logs) mod.listLogFiles(opts.logs); // an unreadable --logs fails before anything starts
    return await mod.startStack({
      awsPort: opts.awsPort,
      snowflakePort: opts.snowflakePort,
      dataDir: opts.dataDir,
      loadMethod: method,
      logLevel: level,
      onBatch: (s) => {
        // After the first load, report what arrives later (files dropped into the log bucket).
        if (!live.reporting || s.messages === 0) return;
        const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
        const line = `ingest: ${s.objectsLoaded} object(s) loaded, ${fmt(s.rows)} row(s), ${fmt(s.rejects)} reject(s), ${skipped} skipped, ${s.failedMessages} failed (will retry)\n`;
        (opts.json ? process.stderr : process.stdout).write(line);
      },
      onError: (err) => {
        if (level !== 'SILENT')
          process.stderr.write(`s3-access-logs: warning: ${(err as Error)?.message ?? String(err)}\n`);
      },
    });
  } catch (err) {
    if (err instanceof mod.StackError) throw new CliError(err.message, 1);
    throw err;
  }
}

interface Signals {
  /** Resolves on Ctrl-C (or SIGTERM) once waiting; before that a signal stops the stack and exits. */
  ctrlC(): Promise<void>;
  /** Run before exiting on a signal (ends the progress bar's line). */
  onInterrupt: () => void;
  dispose(): void;
}

function interrupts(stack: Stack): Signals {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let waiting = false;
  const signals: Signals = {
    ctrlC() {
      waiting = true;
      return released;
    },
    onInterrupt: () => {},
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
  const onSignal = () => {
    if (waiting) return release();
    signals.onInterrupt();
    process.stderr.write('Interrupted; stopping the stack...\n');
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return signals;
}

function printStack(stack: Stack, opts: StartOptions, method: Method, ms: number, seed: string | number): void {
  const { info, settings } = stack;
  out(`s3-access-logs local stack (started in ${seconds(ms)})`);
  out(`  S3 + SQS   ${info.awsEndpoint}  (fauxqs)`);
  out(`  Snowflake  ${info.snowflakeUrl}  (snowflake-local, ${path.join(opts.dataDir, WAREHOUSE_FILE)})`);
  out(
    method === 'pipe'
      ? `  Load       pipe: staged files in s3://${info.stagingBucket}/${info.stagingPrefix}, loaded by Snowpipe (auto-ingest)`
      : '  Load       insert: rows and the ledger claim in one Snowflake transaction per batch',
  );
  out(
    `  Ingest     batches of ${settings.batchSize}, ${settings.concurrency} at once, DLQ after ${settings.maxReceiveCount} receives (as deployed: shared/ingest-settings.json)`,
  );
  out(
    `             local only: ${localOverrides()
      .map((o) => `${o.setting} ${o.local} (deployed ${o.deployed})`)
      .join(', ')}`,
  );
  if (opts.logs) out(`Loading the files in ${opts.logs} into s3://${info.logBucket}/${info.logPrefix}`);
  else out(`Loading a generated sample (seed ${seed}) into s3://${info.logBucket}/${info.logPrefix}`);
}

/** Loads the sample or --logs with a progress bar on stderr (drawn only on a terminal). */
async function loadWithProgress(
  mod: StackModule,
  stack: Stack,
  opts: StartOptions,
  seed: string | number,
  signals: Signals,
): Promise<Summary> {
  const bar = new SingleBar({
    format: 'ingest [{bar}] {value}/{total} objects  {duration_formatted}',
    hideCursor: true,
    clearOnComplete: false,
    stream: process.stderr,
  });
  let barStarted = false;
  let barDone = false;
  // Stopping the bar ends its line and shows the cursor again (it hides it while drawing).
  const stopBar = () => {
    if (barStarted && !barDone) bar.stop();
    barDone = true;
  };
  signals.onInterrupt = stopBar;
  try {
    return await stack.load(
      opts.logs ? { kind: 'dir', dir: opts.logs } : { kind: 'sample', options: { seed } },
      (done, total) => {
        if (barDone) return;
        if (!barStarted) {
          bar.start(total, 0);
          barStarted = true;
        }
        bar.update(done);
      },
    );
  } catch (err) {
    if (err instanceof mod.StackError) throw new CliError(err.message, 1);
    throw err;
  } finally {
    stopBar();
    signals.onInterrupt = () => {};
  }
}

function printSummary(summary: Summary, method: Method): void {
  out();
  out(`Ingested ${summary.uploaded} object(s) in ${seconds(summary.ms)}:`);
  out(`  objects  ${fmt(summary.objects)}  loaded`);
  out(`  rows     ${fmt(summary.rows)}`);
  out(`  rejects  ${fmt(summary.rejects)}  (lines that are not access log records, kept in s3_access_logs_rejects)`);
  out(
    method === 'pipe'
      ? `  skipped  ${fmt(summary.skipped)}  (already loaded: manifests and Snowpipe's load history make loads exactly-once)`
      : `  skipped  ${fmt(summary.skipped)}  (already loaded: the ledger makes loads exactly-once)`,
  );
  out(`  dlq      ${fmt(summary.dlq)}  (messages in the dead-letter queue)`);
  if (summary.files) {
    out(
      `  files    ${fmt(summary.files.loaded)}  staged files loaded by Snowpipe, ${fmt(summary.files.failed)} failed${summary.files.failed ? ' (below; see sql/checks/pipe-loads.sql)' : ''}`,
    );
    for (const f of summary.files.failures) out(`    FAILED ${f.file} → ${f.table}: ${f.error}`);
  }
}

/** The investigations (sql/queries/), then the detections (sql/detections/) over the last 24 h of the loaded logs. */
async function printFindings(stack: Stack): Promise<void> {
  for (const r of await stack.runQueries()) {
    out();
    out(
      `== ${r.name}  (sql/queries/${r.file}, ${r.rows.length} row${r.rows.length === 1 ? '' : 's'}, ${Math.round(r.ms)} ms)`,
    );
    out(renderTable(r.columns, r.rows, 15));
  }
  // `detect` prints the same.
  const { detect, formatFindings } = await import('./detect.ts');
  const found = await detect(await stack.connections.get(), {});
  if (found) {
    out();
    out(formatFindings(found.window, found.results));
  }
}

function printRunning(info: Stack['info'], opts: StartOptions, stackFile: string): void {
  out();
  out('The stack is running. Ctrl-C stops it.');
  out(`  AWS (S3 + SQS)  endpoint ${info.awsEndpoint}, region ${info.region}, access key "local", secret "local"`);
  out(`  log bucket      s3://${info.logBucket}/${info.logPrefix}  - objects put there are loaded, e.g.`);
  out(
    `                  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url ${info.awsEndpoint} --region ${info.region} s3 cp FILE s3://${info.logBucket}/${info.logPrefix}`,
  );
  out(`  queue           ${info.queueUrl}`);
  out(`  DLQ             ${info.dlqUrl}`);
  out(
    `  Snowflake       accessUrl ${info.snowflakeUrl}, account local, user local, password local, database S3_ACCESS_LOGS, schema PUBLIC`,
  );
  out(
    `  stack file      ${path.join(opts.dataDir, stackFile)}  (used by query, investigate, backfill --local, parity --local)`,
  );
}

function printJson(summary: Summary, method: Method): void {
  const files = summary.files ? { filesLoaded: summary.files.loaded, filesFailed: summary.files.failed } : {};
  out(
    JSON.stringify({
      objects: summary.objects,
      rows: summary.rows,
      rejects: summary.rejects,
      skipped: summary.skipped,
      dlq: summary.dlq,
      method,
      ...files,
    }),
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

export { renderTable } from './table.ts';
