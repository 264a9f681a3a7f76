/**
 * `s3-access-logs backfill`: replay a time range (or the DLQ) onto the ingest queue.
 *
 * By default it invokes the deployed backfill function (synchronously, so the summary comes back;
 * a long backfill continues itself in the background and the summary says so). With `--local` it
 * runs the same core in-process against the stack `npm start` is running, found through
 * `<data-dir>/stack.json`.
 */
import type { Command } from 'commander';
import type { BackfillSummary } from '../functions/backfill/core.ts';
import type { RedriveSummary } from '../functions/backfill/redrive.ts';
import type { BackfillPayload } from '../functions/backfill/request.ts';
import { BACKFILL_DEFAULTS, ConfigError, loadBackfillConfig, type BackfillConfig } from '../shared/config.ts';
import { snowflakeEnv, type StackInfo } from '../local/stack-info.ts';
import { parseRange } from './dates.ts';
import { CliError } from './errors.ts';
import { localStack } from './local-stack.ts';

export interface BackfillCliOptions {
  from?: string;
  to?: string;
  prefix?: string;
  bucket?: string;
  dryRun?: boolean;
  force?: boolean;
  maxObjects?: string;
  redriveDlq?: boolean;
  function: string;
  region?: string;
  local?: boolean;
  dataDir: string;
  json?: boolean;
}

const FLAG: Record<string, string> = {
  bucket: '--bucket',
  prefix: '--prefix',
  from: '--from',
  to: '--to',
  dryRun: '--dry-run',
  force: '--force',
  maxObjects: '--max-objects',
  redriveDlq: '--redrive-dlq',
};

export function payloadFrom(opts: BackfillCliOptions): BackfillPayload {
  const p: BackfillPayload = {};
  if (opts.bucket !== undefined) p.bucket = opts.bucket;
  if (opts.prefix !== undefined) p.prefix = opts.prefix;
  if (opts.from !== undefined) p.from = opts.from;
  if (opts.to !== undefined) p.to = opts.to;
  if (opts.dryRun) p.dryRun = true;
  if (opts.force) p.force = true;
  if (opts.redriveDlq) p.redriveDlq = true;
  if (opts.maxObjects !== undefined) {
    if (!/^\d+$/.test(opts.maxObjects) || Number(opts.maxObjects) < 1) {
      throw new CliError(`--max-objects must be a positive whole number, got "${opts.maxObjects}".`, 2);
    }
    p.maxObjects = Number(opts.maxObjects);
  }
  return p;
}

/**
 * The flags checked on their own, before any stack, credentials or function is looked up, with
 * the values as the user typed them. The function checks the payload again (it is the authority on
 * its configured maximum range); the local stack's maximum is the default, checked here too.
 */
export function checkFlags(opts: BackfillCliOptions, now: Date = new Date()): void {
  if (opts.redriveDlq) {
    const extra = (['from', 'to', 'prefix', 'bucket', 'force', 'maxObjects'] as const).find(
      (f) => opts[f] !== undefined && opts[f] !== false,
    );
    if (extra)
      throw new CliError(
        `${FLAG[extra]} cannot be combined with --redrive-dlq: a redrive moves every message of the DLQ.`,
        2,
      );
    return;
  }
  if (opts.to !== undefined && opts.from === undefined) {
    throw new CliError(
      `--to ${opts.to} needs --from: give the start of the range as well (e.g. --from 2026-11-01).`,
      2,
    );
  }
  const range = parseRange({ start: '--from', end: '--to' }, { start: opts.from, end: opts.to });
  if (range.start && !range.end && range.start.getTime() >= now.getTime()) {
    throw new CliError(`--from ${opts.from} is in the future; without --to the range ends now.`, 2);
  }
  if (!range.start && !opts.force) {
    throw new CliError(
      '--from is required: give the range to replay (--from 2026-11-01 [--to 2026-11-02]), or pass --force to replay the whole prefix.',
      2,
    );
  }
  if (opts.local && range.start && !opts.force) {
    const days = ((range.end ?? now).getTime() - range.start.getTime()) / 86_400_000;
    if (days > BACKFILL_DEFAULTS.maxRangeDays) {
      const span = `--from ${opts.from}${opts.to !== undefined ? ` --to ${opts.to}` : ' to now'}`;
      throw new CliError(
        `the range ${span} is ${days.toFixed(1)} days, over the maximum of ${BACKFILL_DEFAULTS.maxRangeDays}; narrow it or pass --force.`,
        2,
      );
    }
  }
}

/** A payload error from the function (field named in payload terms) as a CLI usage error. */
function requestError(field: string, message: string): CliError {
  // The range limit is a setting of the function (BACKFILL_MAX_RANGE_DAYS), not the fault of --to.
  if (/\bthe range is\b/.test(message))
    return new CliError(message.replace(/^\w+:\s*/, '').replace(/\bset force\b/, 'pass --force'), 2);
  const flag = FLAG[field];
  const text = flag ? message.replace(new RegExp(`^${field}:`), `${flag}:`) : message;
  return new CliError(text.replace(/\bset force\b/, 'pass --force'), 2);
}

export function formatSummary(s: BackfillSummary | RedriveSummary): string {
  if ('redriveDlq' in s) {
    if (s.dryRun) return `DLQ redrive (dry run): ${s.waiting ?? 0} message(s) waiting in the DLQ.`;
    return [
      `DLQ redrive: moved ${s.moved} message(s) to the ingest queue${s.failed ? `, ${s.failed} refused (left in the DLQ)` : ''}.`,
      s.continuedAs ? `Continues in invocation ${s.continuedAs}.` : '',
    ]
      .filter(Boolean)
      .join('\n');
  }
  const lines = [
    `Backfill ${s.id}${s.dryRun ? ' (dry run: nothing sent)' : ''}${s.force ? ' (force: loaded objects replaced)' : ''}`,
    `  bucket ${s.bucket}, prefix "${s.prefix}"${s.from ? `, range ${s.from} .. ${s.to}` : ', whole prefix'}`,
  ];
  if (s.padding.keyTimeFrom) {
    lines.push(
      `  key times ${s.padding.keyTimeFrom} .. ${s.padding.keyTimeTo} (padded ${s.padding.beforeMinutes} min before, ${s.padding.afterMinutes} min after: key times are delivery times)`,
    );
  }
  lines.push(
    `  listed ${s.listed} object(s) with ${s.listCalls} LIST call(s) over ${s.prefixesPlanned} prefix(es)${s.ignored ? `, ${s.ignored} not log objects` : ''}`,
    `  selected ${s.selected}: ${s.alreadyLoaded} already loaded, ${s.enqueued} ${s.dryRun ? 'would be ' : ''}enqueued`,
  );
  if (s.truncated) lines.push('  stopped at --max-objects');
  if (s.continuedAs) lines.push(`  continues in the background (invocation ${s.continuedAs}); counts so far`);
  return lines.join('\n');
}

export async function invokeDeployed(
  opts: BackfillCliOptions,
  payload: BackfillPayload,
): Promise<BackfillSummary | RedriveSummary> {
  const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
  const lambda = new LambdaClient(opts.region ? { region: opts.region } : {});
  let out;
  try {
    out = await lambda.send(
      new InvokeCommand({
        FunctionName: opts.function,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
  } catch (err) {
    const e = err as Error & { name?: string };
    if (/Region is missing/i.test(e.message)) {
      throw new CliError(
        'no AWS region for the deployed function: pass --region (e.g. --region us-east-1) or set AWS_REGION, or use --local for the stack "npm start" runs.',
        1,
      );
    }
    if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message)) {
      throw new CliError(
        'no AWS credentials to invoke the deployed function: configure them (AWS_PROFILE, aws configure or aws sso login), or use --local for the stack "npm start" runs.',
        1,
      );
    }
    if (e.name === 'ResourceNotFoundException') {
      throw new CliError(
        `no function "${opts.function}"${opts.region ? ` in ${opts.region}` : ''}; pass --function NAME (the stack output BackfillFunctionName) and --region.`,
        1,
      );
    }
    throw new CliError(`invoking ${opts.function} failed: ${e.message}`, 1);
  } finally {
    lambda.destroy();
  }
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CliError(`${opts.function} returned something that is not JSON: ${text.slice(0, 200)}`, 1);
  }
  if (out.FunctionError)
    throw new CliError(`${opts.function} failed: ${String(body.errorMessage ?? text.slice(0, 300))}`, 1);
  if (typeof body.error === 'string' && typeof body.field === 'string') throw requestError(body.field, body.error);
  return body as unknown as BackfillSummary | RedriveSummary;
}

/**
 * The backfill function's configuration for the local stack: its own loader (shared/config.ts)
 * reads the environment serverless.yml gives the function, pointed at the stack's queues and warehouse.
 */
export function localBackfillConfig(info: StackInfo): BackfillConfig {
  try {
    return loadBackfillConfig({
      LOG_BUCKETS: info.logBucket,
      LOG_PREFIXES: info.logPrefix,
      BACKFILL_QUEUE_URL: info.queueUrl,
      BACKFILL_DLQ_URL: info.dlqUrl,
      AWS_REGION: info.region,
      ...snowflakeEnv(info.snowflakeUrl, info.snowflake),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new CliError(
      `the local stack in ${info.dataDir} gives the backfill an invalid configuration (${err.problems.join(' ')}); restart it with "npm start".`,
      1,
    );
  }
}

/** Runs the backfill core in-process against a running local stack (`npm start`). */
export async function runLocal(dataDir: string, payload: BackfillPayload): Promise<BackfillSummary | RedriveSummary> {
  const { info } = localStack(dataDir);
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const { runBackfill } = await import('../functions/backfill/core.ts');
  const { snowflakeLedger } = await import('../functions/backfill/ledger.ts');
  const { snowflakeExecutor } = await import('../functions/backfill/snowflake.ts');
  const { BackfillRequestError } = await import('../functions/backfill/request.ts');

  const config = localBackfillConfig(info);
  const clientConfig = {
    endpoint: info.awsEndpoint,
    region: config.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
  const sqs = new SQSClient(clientConfig);
  const snowflake = snowflakeExecutor(config.snowflake);
  const pending: BackfillPayload[] = [];
  const deps = {
    config,
    s3,
    sqs,
    ledger: snowflakeLedger(snowflake),
    logger: { info() {}, warn() {} },
    async continueWith(next: BackfillPayload) {
      pending.push(next);
      return `local-${pending.length + 1}`;
    },
  };
  // No Lambda time limit here: one in-process run; a continuation (never expected) runs inline.
  const ctx = {
    getRemainingTimeInMillis: () => Number.MAX_SAFE_INTEGER,
    awsRequestId: `local-${Date.now().toString(36)}`,
  };
  try {
    let summary = await runBackfill(deps, payload, ctx);
    while (pending.length > 0) summary = await runBackfill(deps, pending.shift()!, ctx);
    return summary;
  } catch (err) {
    if (err instanceof BackfillRequestError) throw requestError(err.field, err.message);
    throw err;
  } finally {
    s3.destroy();
    sqs.destroy();
    await snowflake.close();
  }
}

export function register(program: Command): void {
  program
    .command('backfill')
    .description(
      'Replay log objects of a time range (or the DLQ) onto the ingest queue; objects already loaded are skipped',
    )
    .option(
      '--from <date>',
      'start of the range: ISO date (2026-11-01, start of day UTC) or instant (2026-11-01T13:00:00Z)',
    )
    .option('--to <date>', 'end of the range: ISO date (inclusive: the whole day) or instant (exclusive); default now')
    .option('--prefix <prefix>', 'log key prefix (default: the configured log prefix)')
    .option('--bucket <bucket>', 'log bucket (default: the configured log bucket)')
    .option('--dry-run', 'only count what would be sent')
    .option(
      '--force',
      're-send objects already loaded (their rows are replaced, not duplicated); also allows ranges over the maximum',
    )
    .option('--max-objects <n>', 'stop after selecting this many objects')
    .option('--redrive-dlq', "move the DLQ's messages back to the ingest queue")
    .option(
      '--function <name>',
      'deployed backfill function name or ARN',
      process.env.S3_ACCESS_LOGS_BACKFILL_FUNCTION ?? 's3-access-logs-dev-backfill',
    )
    .option('--region <region>', 'AWS region of the deployed function (default: the AWS SDK default)')
    .option('--local', 'run against the local stack started by "npm start" instead of AWS')
    .option('--data-dir <dir>', 'data dir of the local stack (where stack.json is)', '.local')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: BackfillCliOptions) => {
      const payload = payloadFrom(opts);
      checkFlags(opts);
      const summary = opts.local ? await runLocal(opts.dataDir, payload) : await invokeDeployed(opts, payload);
      process.stdout.write(`${opts.json ? JSON.stringify(summary) : formatSummary(summary)}\n`);
    });
}
