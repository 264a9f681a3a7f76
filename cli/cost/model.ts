/**
 * The cost model of `s3-access-logs cost`: credits and dollars per day of each load method
 * (`pipe`, `insert`) and of the quickstart's design this product replaces, from a daily log volume.
 * Pure functions over ./prices.ts; every result line carries its formula with the numbers filled in.
 *
 * Arrivals are modelled as a Poisson process (log objects land independently all day): a warehouse
 * that stays up `h` seconds after each of `r` events per second is awake a fraction 1 − e^(−r·h) of
 * the day. Snowflake bills a resumed warehouse at least 60 s; with AUTO_SUSPEND = 60 every resume
 * already lasts that long, so the minimum adds nothing here.
 */
import { ASSUMPTIONS, PRICES, RATES } from './prices.ts';

export type Method = 'pipe' | 'insert' | 'quickstart';

export interface CostInput {
  /** GB (10^9 bytes) of log lines per day. */
  gbPerDay: number;
  /** Log objects per day; default: 1 MB objects. */
  objectsPerDay?: number;
  /** The event source's batching window, seconds (serverless.yml batchingWindow). */
  batchingWindowSeconds?: number;
  /** Log objects per invocation at most (serverless.yml batchSize). */
  batchSize?: number;
  /** Ingest function memory, MB (serverless.yml provider.memorySize). */
  memoryMb?: number;
  creditPriceUsd?: number;
}

export interface LineItem {
  item: string;
  usd: number;
  formula: string;
}

export interface MethodCost {
  method: Method;
  credits: number;
  creditsFormula: string;
  snowflakeUsd: number;
  aws: LineItem[];
  awsUsd: number;
  totalUsd: number;
}

export interface CostReport {
  input: Required<CostInput>;
  invocationsPerDay: number;
  methods: Record<Method, MethodCost>;
}

const DAY = 86400;
const n = (x: number, digits = 4) =>
  Number.isInteger(x) || Math.abs(x) >= 1000 ? String(Math.round(x)) : x.toPrecision(digits);

/**
 * Invocations of the ingest function per day: the event source waits up to the batching window
 * to fill a batch, so an invocation carries the objects that arrived in one window (at least one,
 * at most batchSize).
 */
export function invocationsPerDay(objectsPerDay: number, batchingWindowSeconds: number, batchSize: number): number {
  if (objectsPerDay === 0) return 0;
  const perWindow = (objectsPerDay / DAY) * batchingWindowSeconds;
  return objectsPerDay / Math.min(Math.max(perWindow, 1), batchSize);
}

/** Fraction of the day a warehouse is up when each of `perDay` Poisson events keeps it up `holdSeconds`. */
export function awakeFraction(perDay: number, holdSeconds: number): number {
  return 1 - Math.exp(-(perDay / DAY) * holdSeconds);
}

function resolve(input: CostInput): Required<CostInput> {
  const r = {
    gbPerDay: input.gbPerDay,
    objectsPerDay: input.objectsPerDay ?? Math.ceil((input.gbPerDay * 1e9) / ASSUMPTIONS.objectBytes),
    batchingWindowSeconds: input.batchingWindowSeconds ?? 5,
    batchSize: input.batchSize ?? 10,
    memoryMb: input.memoryMb ?? 1024,
    creditPriceUsd: input.creditPriceUsd ?? PRICES.creditPriceUsd.value,
  };
  const bad = (Object.entries(r) as [string, number][]).find(([, v]) => !Number.isFinite(v) || v < 0);
  if (bad) throw new RangeError(`${bad[0]} must be a number of 0 or more, got ${bad[1]}.`);
  if (r.batchSize < 1 || r.memoryMb < 128)
    throw new RangeError('batchSize must be at least 1 and memoryMb at least 128.');
  return r;
}

/** SQS requests of the ingest queue: S3's sends, the event source's receives and batch deletes, idle long polls. */
function sqsItem(objects: number, invocations: number): LineItem {
  const batches = Math.max(invocations, objects / 10);
  const requests = objects + 2 * batches + ASSUMPTIONS.lambdaIdlePollsPerDay;
  return {
    item: 'SQS ingest queue requests',
    usd: requests * PRICES.sqsUsdPerRequest.value,
    formula: `(${n(objects)} sends + 2 × ${n(batches)} receive/delete batches + ${ASSUMPTIONS.lambdaIdlePollsPerDay} idle polls) × $0.40/M`,
  };
}

function lambdaItems(invocations: number, seconds: number, memoryMb: number, secondsFormula: string): LineItem[] {
  const gbSeconds = seconds * (memoryMb / 1024);
  return [
    {
      item: 'Lambda requests',
      usd: invocations * PRICES.lambdaUsdPerRequest.value,
      formula: `${n(invocations)} invocations × $0.20/M`,
    },
    {
      item: 'Lambda duration (arm64)',
      usd: gbSeconds * PRICES.lambdaArmUsdPerGbSecond.value,
      formula: `(${secondsFormula}) s × ${memoryMb}/1024 GB × $0.0000133334/GB-s = ${n(gbSeconds)} GB-s`,
    },
  ];
}

function method(m: Method, credits: number, creditsFormula: string, aws: LineItem[], price: number): MethodCost {
  const awsUsd = aws.reduce((s, i) => s + i.usd, 0);
  return {
    method: m,
    credits,
    creditsFormula,
    snowflakeUsd: credits * price,
    aws,
    awsUsd,
    totalUsd: credits * price + awsUsd,
  };
}

function pipeCost(i: Required<CostInput>, invocations: number): MethodCost {
  const billedGb = i.gbPerDay * RATES.csvBilledBytesPerLogByte.value;
  const credits = billedGb * PRICES.snowpipeCreditsPerGb.value;
  const vcpu = Math.min(i.memoryMb / RATES.lambdaMbPerVcpu.value, 1);
  const cpuPerGb = RATES.readAndParseCpuSecondsPerGb.value + RATES.csvEncodeCpuSecondsPerGb.value;
  const seconds = (i.gbPerDay * cpuPerGb) / vcpu + i.objectsPerDay * ASSUMPTIONS.pipeS3SecondsPerObject;
  const files = i.objectsPerDay * ASSUMPTIONS.pipeFilesPerObject;
  const storedGb = i.gbPerDay * RATES.csvStoredBytesPerLogByte.value * ASSUMPTIONS.stagedFileDays;
  const aws = [
    ...lambdaItems(
      invocations,
      seconds,
      i.memoryMb,
      `${n(i.gbPerDay)} GB × ${n(cpuPerGb)} CPU-s/GB ÷ ${n(vcpu, 3)} vCPU + ${n(i.objectsPerDay)} objects × ${ASSUMPTIONS.pipeS3SecondsPerObject} s S3 I/O`,
    ),
    {
      item: 'S3 PUT (staged files)',
      usd: files * PRICES.s3PutUsdPerRequest.value,
      formula: `${n(i.objectsPerDay)} objects × ${ASSUMPTIONS.pipeFilesPerObject} files × $0.005/1000`,
    },
    {
      item: 'S3 GET/HEAD (log object, manifest HEAD, Snowpipe reading the files)',
      usd: (i.objectsPerDay * 2 + files) * PRICES.s3GetUsdPerRequest.value,
      formula: `${n(i.objectsPerDay)} objects × (1 GET + 1 HEAD + ${ASSUMPTIONS.pipeFilesPerObject} GETs by Snowpipe) × $0.0004/1000`,
    },
    {
      item: 'S3 storage (staged files, 14 days)',
      usd: (storedGb * PRICES.s3StorageUsdPerGbMonth.value * 12) / 365,
      formula: `${n(i.gbPerDay)} GB × ${RATES.csvStoredBytesPerLogByte.value} gzip ratio × 14 days = ${n(storedGb)} GB × $0.023/GB-month`,
    },
    sqsItem(i.objectsPerDay, invocations),
  ];
  return method(
    'pipe',
    credits,
    `${n(i.gbPerDay)} GB × ${RATES.csvBilledBytesPerLogByte.value} (uncompressed CSV per log byte) × ${PRICES.snowpipeCreditsPerGb.value} credits/GB`,
    aws,
    i.creditPriceUsd,
  );
}

function insertCost(i: Required<CostInput>, invocations: number): MethodCost {
  const hold = ASSUMPTIONS.loaderAutoSuspendSeconds + ASSUMPTIONS.insertStatementSecondsPerInvocation;
  const awake = awakeFraction(invocations, hold);
  const credits = 24 * awake * PRICES.warehouseCreditsPerHour.value;
  const vcpu = Math.min(i.memoryMb / RATES.lambdaMbPerVcpu.value, 1);
  const rowsPerGb = 1e9 / RATES.avgLineBytes.value;
  const cpuPerGb = RATES.readAndParseCpuSecondsPerGb.value + (rowsPerGb * RATES.sdkCpuMicrosPerRow.value) / 1e6;
  const seconds =
    (i.gbPerDay * cpuPerGb) / vcpu +
    i.objectsPerDay * ASSUMPTIONS.insertS3SecondsPerObject +
    invocations * ASSUMPTIONS.insertStatementSecondsPerInvocation;
  const aws = [
    ...lambdaItems(
      invocations,
      seconds,
      i.memoryMb,
      `${n(i.gbPerDay)} GB × ${n(cpuPerGb)} CPU-s/GB ÷ ${n(vcpu, 3)} vCPU + ${n(i.objectsPerDay)} × ${ASSUMPTIONS.insertS3SecondsPerObject} s GET + ${n(invocations)} × ${ASSUMPTIONS.insertStatementSecondsPerInvocation} s Snowflake statements`,
    ),
    {
      item: 'S3 GET (log object)',
      usd: i.objectsPerDay * PRICES.s3GetUsdPerRequest.value,
      formula: `${n(i.objectsPerDay)} objects × $0.0004/1000`,
    },
    sqsItem(i.objectsPerDay, invocations),
  ];
  const formula = `24 h × ${PRICES.warehouseCreditsPerHour.value} credit/h (X-Small) × awake (1 − e^(−${n(invocations)}/86400 × (${ASSUMPTIONS.loaderAutoSuspendSeconds} s auto-suspend + ${ASSUMPTIONS.insertStatementSecondsPerInvocation} s statements)) = ${n(awake, 3)})`;
  return method('insert', credits, formula, aws, i.creditPriceUsd);
}

function quickstartCost(i: Required<CostInput>): MethodCost {
  const A = ASSUMPTIONS;
  const runs =
    (DAY / A.quickstartTaskScheduleSeconds) * awakeFraction(i.objectsPerDay, A.quickstartTaskScheduleSeconds);
  const perRun = Math.max(60, A.quickstartTaskRunSeconds + A.quickstartAutoSuspendSeconds);
  const taskCredits = (runs * perRun * A.quickstartWarehouseCreditsPerHour) / 3600;
  const pipeCredits = i.gbPerDay * PRICES.snowpipeCreditsPerGb.value;
  const aws = [
    {
      item: 'S3 GET (Snowpipe reading the log objects)',
      usd: i.objectsPerDay * PRICES.s3GetUsdPerRequest.value,
      formula: `${n(i.objectsPerDay)} objects × $0.0004/1000`,
    },
  ];
  const formula =
    `task: ${n(runs)} runs (144 × P(a log object in 10 min)) × ${perRun} s (run + ${A.quickstartAutoSuspendSeconds} s auto-suspend, ≥ 60 s) × ${A.quickstartWarehouseCreditsPerHour} credits/h (Medium)` +
    ` + Snowpipe: ${n(i.gbPerDay)} GB raw lines × ${PRICES.snowpipeCreditsPerGb.value} credits/GB`;
  return method('quickstart', taskCredits + pipeCredits, formula, aws, i.creditPriceUsd);
}

export function costPerDay(input: CostInput): CostReport {
  const i = resolve(input);
  const invocations = invocationsPerDay(i.objectsPerDay, i.batchingWindowSeconds, i.batchSize);
  return {
    input: i,
    invocationsPerDay: invocations,
    methods: { pipe: pipeCost(i, invocations), insert: insertCost(i, invocations), quickstart: quickstartCost(i) },
  };
}

/** Credits/day the pipe method would cost on Snowpipe's previous per-file pricing (file overhead only). */
export function legacyPipeFileCredits(objectsPerDay: number): number {
  return ((objectsPerDay * ASSUMPTIONS.pipeFilesPerObject) / 1000) * PRICES.legacySnowpipeCreditsPer1000Files.value;
}
