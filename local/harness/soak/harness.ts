/**
 * The soak (issue 12, item 8): many log objects of every shape through the real pipeline while
 * everything that can fail does, then an audit of what is in Snowflake.
 *
 * - fauxqs (S3 + SQS with a DLQ) and snowflake-local run here; the loaders are child processes
 *   (worker.ts: poller + real handler, several batches at once) that this process kills with
 *   SIGKILL at random moments and restarts, so transactions are left open mid-statement;
 * - every object is announced once, some twice or three times (duplicate and concurrent
 *   deliveries); the queue's visibility timeout is short, so slow batches are redelivered too;
 * - snowflake-local fails statements at every step (lookup, BEGIN, INSERT rows/rejects, claim
 *   MERGE and SELECT, COMMIT, ROLLBACK), loses responses, is briefly unavailable, stalls
 *   statements; the workers' S3 clients return 500s and cut bodies (with and without an error).
 *
 * The audit: duplicates (a (logbucket, logkey, logline) present twice in rows + rejects), lost
 * (an object with no ledger row and no message in the DLQ, or whose ledger line count differs
 * from its known line count), dead-lettered (no ledger row, announced by a message in the DLQ:
 * not silent, a redrive loads it), the ledger invariant linecount = rowcount + rejectcount (and
 * the ledger counts = the rows present), and the DLQ's depth.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { snowpipeOptions, startAwsLocal, type AwsLocal } from '../../aws.ts';
import { startBridge, type Bridge } from '../../bridge.ts';
import { Prng } from '../../sample/prng.ts';
import { startSnowflakeLocal, type SnowflakeLocal } from 'snowflake-local';
import { notificationBody } from '../events.ts';
import { parseMessageBody } from '../../../shared/s3/events.ts';
import { connect, type Connection } from '../snowflake.ts';
import { configureSnowflakeSdk, execute } from '../../../shared/snowflake/connection.ts';
import { applySqlFiles, tableSqlFiles } from '../../../shared/snowflake/sql-files.ts';
import { applyPipeSql, stagingUrl } from '../../../shared/snowflake/pipe-sql.ts';
import { missingObjects, soakObjects, type SoakObject } from './objects.ts';
import type { WorkerInput } from './worker.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.ts');
const BUCKET = 'soak-logs';
const STAGING_BUCKET = 'soak-staging';
const STAGING_PREFIX = 'pipe/';

export interface SoakOptions {
  objects: number;
  /** `insert` (default): transactions; `pipe`: staged files that snowflake-local's Snowpipe loads. */
  method?: 'insert' | 'pipe';
  seed?: number;
  /** Loader processes, each running `concurrency` batches at once. */
  workers?: number;
  concurrency?: number;
  /** Mean milliseconds between kill -9 of a random loader. */
  killEveryMs?: number;
  /** Mean milliseconds between Snowflake faults. */
  faultEveryMs?: number;
  s3FaultRate?: number;
  /**
   * The queue's maxReceiveCount (default 10). Under a slow machine, time-based faults hit a larger
   * share of attempts, so a test that must not depend on machine speed raises it.
   */
  maxReceiveCount?: number;
  /** Give up (and report what is missing) after this long; faults stop at half of it, so the tail drains. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  objects: number;
  messages: number;
  /** Lines the objects hold (known counts; corrupt gzip objects excluded). */
  lines: number;
  shapes: Record<string, number>;
  faults: Record<string, number>;
  rows: number;
  rejects: number;
  /** (logbucket, logkey, logline) present more than once in rows + rejects. */
  duplicates: number;
  /** Objects loaded with missing or extra lines, or not loaded and not in the DLQ: silent loss. */
  lost: number;
  lostKeys: string[];
  /** Objects not loaded whose message is in the DLQ (a redrive loads them): visible, not lost. */
  deadLettered: number;
  deadLetteredKeys: string[];
  /** Messages in the DLQ. */
  dlq: number;
  /** Objects whose ledger counts break linecount = rowcount + rejectcount or differ from the tables. */
  ledgerInvariantViolations: number;
  seconds: number;
}

interface Env {
  aws: AwsLocal;
  sf: SnowflakeLocal;
  db: Connection;
  queueUrl: string;
  dlqUrl: string;
  /** `pipe`: announces staged files to the pipes' queue, as S3's notification would. */
  stagingBridge?: Bridge;
}

async function setUp(method: 'insert' | 'pipe', maxReceiveCount: number): Promise<Env> {
  configureSnowflakeSdk();
  const aws = await startAwsLocal();
  await aws.s3.send(new CreateBucketCommand({ Bucket: STAGING_BUCKET }));
  const pipeQueue = await aws.createQueue('soak-snowpipe');
  // Snowflake's detached-transaction abort (5 min) and lock timeout, scaled down to the soak's pace.
  const sf = await startSnowflakeLocal({
    port: 0,
    lockTimeoutMs: 8_000,
    detachedAbortMs: 3_000,
    ...(method === 'pipe' ? { snowpipe: snowpipeOptions(aws, pipeQueue, 50) } : {}),
  });
  const db = await connect(sf.url);
  await applySqlFiles(db, tableSqlFiles());
  let stagingBridge: Bridge | undefined;
  if (method === 'pipe') {
    await applyPipeSql(db, {
      url: stagingUrl(STAGING_BUCKET, STAGING_PREFIX),
      credentials: { awsKeyId: aws.credentials.accessKeyId, awsSecretKey: aws.credentials.secretAccessKey },
    });
    stagingBridge = startBridge({
      s3: aws.s3,
      sqs: aws.sqs,
      bucket: STAGING_BUCKET,
      prefix: STAGING_PREFIX,
      queueUrl: pipeQueue.url,
      region: aws.region,
      intervalMs: 300,
    });
  }
  await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const dlq = await aws.createQueue('soak-dlq');
  const dlqUrl = dlq.url;
  const queueUrl = (
    await aws.createQueue('soak', {
      VisibilityTimeout: '12',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
    })
  ).url;
  return { aws, sf, db, queueUrl, dlqUrl, ...(stagingBridge ? { stagingBridge } : {}) };
}

async function upload(env: Env, objects: SoakObject[], prng: Prng): Promise<number> {
  const bodies: string[] = [];
  for (const o of objects) {
    const r = await env.aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: o.key, Body: o.body }));
    const ref = { bucket: BUCKET, key: o.key, size: o.body.length, etag: r.ETag!.replace(/"/g, '') };
    const copies = prng.chance(0.1) ? (prng.chance(0.4) ? 3 : 2) : 1;
    for (let c = 0; c < copies; c++) bodies.push(notificationBody([ref]));
  }
  // Shuffled, so copies of one object land in different batches (and loaders) at once.
  for (let i = bodies.length - 1; i > 0; i--) {
    const j = prng.int(0, i);
    [bodies[i], bodies[j]] = [bodies[j]!, bodies[i]!];
  }
  for (let i = 0; i < bodies.length; i += 10) {
    await env.aws.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: env.queueUrl,
        Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody })),
      }),
    );
  }
  return bodies.length;
}

const STATEMENT_FAULTS: Array<[string, RegExp]> = [
  ['lookup', /^\s*SELECT logbucket, logkey, etag FROM s3_access_logs_loads/i],
  ['begin', /^\s*BEGIN\b/i],
  ['insert_rows', /^\s*INSERT INTO s3_access_logs \(/i],
  ['insert_rejects', /^\s*INSERT INTO s3_access_logs_rejects\b/i],
  ['claim_merge', /^\s*MERGE INTO s3_access_logs_loads/i],
  ['claim_select', /^\s*SELECT logbucket, logkey FROM s3_access_logs_loads WHERE claimid/i],
  ['commit', /^\s*COMMIT\b/i],
  ['rollback', /^\s*ROLLBACK\b/i],
];

/** One random Snowflake fault; returns its kind for the report. */
function injectSnowflakeFault(sf: SnowflakeLocal, prng: Prng): string {
  const r = prng.next();
  if (r < 0.6) {
    const [name, pattern] = prng.pick(STATEMENT_FAULTS);
    sf.faults.failStatement(pattern, { nth: prng.int(1, 4) });
    return `statement_${name}`;
  }
  if (r < 0.75) {
    sf.faults.loseResponses(1);
    return 'lost_response';
  }
  if (r < 0.85) {
    sf.faults.unavailable(prng.int(100, 600), { path: /query-request/ });
    return 'unavailable';
  }
  const [name, pattern] = prng.pick(STATEMENT_FAULTS);
  sf.faults.stallStatement(pattern, prng.int(200, 1_500));
  return `stall_${name}`;
}

/** The object keys the DLQ's messages announce (read without receiving them). */
async function deadLetteredKeys(env: Env): Promise<Set<string>> {
  const q = await env.aws.inspectQueue(env.dlqUrl);
  const messages = q ? [...q.messages.ready, ...q.messages.delayed, ...q.messages.inflight.map((m) => m.message)] : [];
  const keys = new Set<string>();
  for (const m of messages) {
    const parsed = parseMessageBody(m.body);
    if (parsed.kind === 'objects') for (const o of parsed.objects) keys.add(o.key);
  }
  return keys;
}

async function queueDepth(env: Env, url: string): Promise<number> {
  const a =
    (
      await env.aws.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 7;
  const prng = new Prng(seed);
  const method = options.method ?? 'insert';
  const env = await setUp(method, options.maxReceiveCount ?? 10);
  const dir = mkdtempSync(path.join(tmpdir(), 'soak-'));
  const faultLog = path.join(dir, 'faults.log');
  writeFileSync(faultLog, '');
  const faults: Record<string, number> = {};
  const count = (k: string) => (faults[k] = (faults[k] ?? 0) + 1);
  const loaders = new Loaders(seed, {
    endpoint: env.aws.endpoint,
    snowflakeUrl: env.sf.url,
    queueUrl: env.queueUrl,
    bucket: BUCKET,
    faultLog,
    method,
    staging: { bucket: STAGING_BUCKET, prefix: STAGING_PREFIX },
    s3FaultRate: options.s3FaultRate ?? 0.05,
    concurrency: options.concurrency ?? 2,
    invocationMs: 200_000,
  });
  try {
    const objects = soakObjects(options.objects, seed);
    const messages = await upload(env, objects, prng);
    log(`soak: ${objects.length} objects, ${messages} messages queued`);
    for (let i = 0; i < (options.workers ?? 2); i++) loaders.start(i);
    await runChaos({ env, loaders, prng, options, method, messages, started, count });
    if (env.stagingBridge) {
      // Every staged file announced, then every announcement loaded by the pipes.
      env.sf.faults.clear();
      await env.stagingBridge.kick();
      await env.sf.snowpipe.idle();
    }
    for (const line of readFileSync(faultLog, 'utf8').split('\n')) if (line) count(line);
    const report = await audit(env, objects, messages, faults);
    report.seconds = Math.round((Date.now() - started) / 1000);
    return report;
  } finally {
    loaders.killAll();
    await env.stagingBridge?.stop();
    await new Promise<void>((r) => env.db.destroy(() => r()));
    await env.sf.stop();
    await env.aws.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The loader child processes (worker.ts), by slot; each start gets a fresh seed. */
class Loaders {
  private readonly procs: Array<ChildProcess | undefined> = [];
  private readonly bornAt: number[] = [];
  private seq = 0;

  constructor(
    private readonly seed: number,
    /** worker.ts's input, all but the seed. */
    private readonly args: Omit<WorkerInput, 'seed'>,
  ) {}

  get size(): number {
    return this.procs.length;
  }

  start(i: number): void {
    this.bornAt[i] = Date.now();
    const args = JSON.stringify({ ...this.args, seed: this.seed * 1000 + ++this.seq });
    this.procs[i] = spawn(process.execPath, ['--import', 'tsx', WORKER, args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }

  /** Milliseconds since slot `i` was (re)started. */
  age(i: number): number {
    return Date.now() - this.bornAt[i]!;
  }

  /** kill -9, then a fresh loader in the same slot. */
  restart(i: number): void {
    this.procs[i]?.kill('SIGKILL');
    this.start(i);
  }

  killAll(): void {
    for (const p of this.procs) p?.kill('SIGKILL');
  }
}

interface Chaos {
  env: Env;
  loaders: Loaders;
  prng: Prng;
  options: SoakOptions;
  method: 'insert' | 'pipe';
  messages: number;
  started: number;
  count: (fault: string) => void;
}

/**
 * Kills loaders and injects Snowflake faults while the queue drains; returns once the queue has
 * been empty for 20 rounds (2 s) or the time budget is spent.
 */
async function runChaos(c: Chaos): Promise<void> {
  const { env, loaders, prng, options, count } = c;
  const n = loaders.size;
  const timeout = c.started + (options.timeoutMs ?? 20 * 60_000);
  const chaosUntil = c.started + (timeout - c.started) / 2;
  const killEvery = options.killEveryMs ?? 6_000;
  const faultEvery = options.faultEveryMs ?? 400;
  let nextKill = Date.now() + prng.int(killEvery / 2, killEvery * 1.5);
  let nextFault = Date.now() + faultEvery;
  let idleRounds = 0;
  while (Date.now() < timeout) {
    await new Promise((r) => setTimeout(r, 100));
    // Faults while the queue is busy; the tail drains without them, so the run ends. Faults come
    // by the clock, not per attempt, so the last few messages could be starved by them forever:
    // chaos also ends at half the time budget.
    const depth = await queueDepth(env, env.queueUrl);
    const chaos = depth > c.messages * 0.05 && Date.now() < chaosUntil;
    const i = prng.int(0, n - 1);
    // Kill a loader that has had time to start and take messages, not one still booting.
    if (chaos && Date.now() >= nextKill && loaders.age(i) > 3_000) {
      loaders.restart(i);
      count('kill_9');
      nextKill = Date.now() + prng.int(killEvery / 2, killEvery * 1.5);
    }
    // Snowflake faults hit the insert method's statements; in pipe the Lambda never talks to
    // Snowflake (Snowpipe's own retries are Snowflake's), so pipe gets kills and S3 faults.
    if (chaos && c.method === 'insert' && Date.now() >= nextFault) {
      count(injectSnowflakeFault(env.sf, prng));
      nextFault = Date.now() + prng.int(faultEvery / 2, faultEvery * 1.5);
    }
    if (!chaos) env.sf.faults.clear();
    idleRounds = depth === 0 ? idleRounds + 1 : 0;
    if (idleRounds >= 20) break;
  }
}

async function audit(
  env: Env,
  objects: SoakObject[],
  messages: number,
  faults: Record<string, number>,
): Promise<SoakReport> {
  const q = async (sql: string) =>
    (await execute<Record<string, unknown>>(env.db, sql)).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v])),
    );
  const [dups] = await q(
    'SELECT COUNT(*) AS n FROM (SELECT logbucket, logkey, logline FROM (SELECT logbucket, logkey, logline FROM s3_access_logs UNION ALL ' +
      'SELECT logbucket, logkey, logline FROM s3_access_logs_rejects) GROUP BY logbucket, logkey, logline HAVING COUNT(*) > 1)',
  );
  const ledger = new Map(
    (await q('SELECT logkey, linecount, rowcount, rejectcount FROM s3_access_logs_loads')).map((r) => [
      String(r.logkey),
      r,
    ]),
  );
  const present = async (table: string) =>
    new Map(
      (await q(`SELECT logkey, COUNT(*) AS n FROM ${table} GROUP BY logkey`)).map((r) => [
        String(r.logkey),
        Number(r.n),
      ]),
    );
  const rows = await present('s3_access_logs');
  const rejects = await present('s3_access_logs_rejects');
  const lineCounts = new Map([...ledger].map(([k, l]) => [k, Number(l.linecount)]));
  const { lost: lostKeys, deadLettered } = missingObjects(objects, lineCounts, await deadLetteredKeys(env));
  let violations = 0;
  for (const o of objects) {
    const l = ledger.get(o.key);
    if (!l) continue;
    const [lc, rc, jc] = [l.linecount, l.rowcount, l.rejectcount].map(Number) as [number, number, number];
    if (lc !== rc + jc || rc !== (rows.get(o.key) ?? 0) || jc !== (rejects.get(o.key) ?? 0)) violations++;
  }
  const shapes: Record<string, number> = {};
  for (const o of objects) shapes[o.shape] = (shapes[o.shape] ?? 0) + 1;
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return {
    objects: objects.length,
    messages,
    lines: objects.reduce((a, o) => a + (o.lines ?? 0), 0),
    shapes,
    faults: Object.fromEntries(Object.entries(faults).sort()),
    rows: sum(rows),
    rejects: sum(rejects),
    duplicates: Number(dups?.n ?? 0),
    lost: lostKeys.length,
    lostKeys: lostKeys.slice(0, 20),
    deadLettered: deadLettered.length,
    deadLetteredKeys: deadLettered.slice(0, 20),
    dlq: await queueDepth(env, env.dlqUrl),
    ledgerInvariantViolations: violations,
    seconds: 0,
  };
}
