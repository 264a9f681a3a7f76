/**
 * Every price and measured rate the cost model (./model.ts) uses, each with where it comes from
 * and when it was read. Prices change: `s3-access-logs cost --json` prints these with every
 * result, and docs/cost.md lists them. AWS prices are us-east-1 list prices without free tiers.
 */

export interface Sourced {
  value: number;
  unit: string;
  source: string;
  /** When the source was read (prices) or the measurement was taken (rates). */
  asOf: string;
}

const READ = '2026-11-30';

export const PRICES = {
  snowpipeCreditsPerGb: {
    value: 0.0037,
    unit: 'credits per GB billed (text: uncompressed size; Parquet: stored size)',
    source:
      'Snowflake Service Consumption Table, as reported by seemoredata.io "Snowflake\'s new Snowpipe pricing"; the billing rule is docs.snowflake.com/user-guide/data-load-snowpipe-billing ("Snowpipe costs"), which says per-GB billing applies to Business Critical and VPS accounts from 2025-08-01 and to Standard and Enterprise "in the near future". The 0.0037 figure itself was not read in the official table.',
    asOf: READ,
  },
  legacySnowpipeCreditsPer1000Files: {
    value: 0.06,
    unit: 'credits per 1,000 files (the per-file overhead of the previous Snowpipe pricing, plus compute not modelled)',
    source: 'docs.snowflake.com/user-guide/data-load-snowpipe-billing (earlier versions of the page)',
    asOf: READ,
  },
  warehouseCreditsPerHour: {
    value: 1,
    unit: 'credits per hour for an X-Small warehouse (Small 2, Medium 4: doubling per size); billed per second, 60 s minimum per resume',
    source: 'docs.snowflake.com/user-guide/warehouses-overview (research notes ../shared/research/loading-and-cost.md)',
    asOf: READ,
  },
  creditPriceUsd: {
    value: 3,
    unit: 'USD per credit, on demand, Enterprise edition, AWS US East (Standard $2, Business Critical $4); override with --credit-price',
    source:
      'snowflake.com/pricing, as summarised by finout.io "The complete guide to Snowflake pricing" and cpard.xyz "How Snowflake pricing works"',
    asOf: READ,
  },
  lambdaArmUsdPerGbSecond: {
    value: 0.0000133334,
    unit: 'USD per GB-second, arm64, first 7.5 billion GB-s per month',
    source: 'aws.amazon.com/lambda/pricing (stored copy, corroborated by cloudchipr.com "AWS Lambda pricing")',
    asOf: READ,
  },
  lambdaUsdPerRequest: {
    value: 0.2 / 1e6,
    unit: 'USD per invocation ($0.20 per million)',
    source: 'aws.amazon.com/lambda/pricing',
    asOf: READ,
  },
  s3PutUsdPerRequest: {
    value: 0.005 / 1000,
    unit: 'USD per PUT, COPY, POST or LIST request, S3 Standard ($0.005 per 1,000)',
    source: 'aws.amazon.com/s3/pricing (stored copy, corroborated by c3x.dev "S3 request fees explained")',
    asOf: READ,
  },
  s3GetUsdPerRequest: {
    value: 0.0004 / 1000,
    unit: 'USD per GET, HEAD or SELECT request, S3 Standard ($0.0004 per 1,000)',
    source: 'aws.amazon.com/s3/pricing (stored copy, corroborated by c3x.dev "S3 request fees explained")',
    asOf: READ,
  },
  s3StorageUsdPerGbMonth: {
    value: 0.023,
    unit: 'USD per GB-month, S3 Standard, first 50 TB',
    source: 'aws.amazon.com/s3/pricing',
    asOf: READ,
  },
  sqsUsdPerRequest: {
    value: 0.4 / 1e6,
    unit: 'USD per standard-queue request ($0.40 per million; each 64 KB of payload is one request)',
    source:
      'aws.amazon.com/sqs/pricing (stored copies of factualminds.com and cloudburn.io "Amazon SQS pricing", 2026)',
    asOf: READ,
  },
} satisfies Record<string, Sourced>;

/**
 * Measured on this project (bench/results/*.json), or configured in this repository. The Lambda
 * CPU rates are from a 2-core x64 machine; arm64 Lambda CPUs differ, so they are estimates.
 */
export const RATES = {
  csvBilledBytesPerLogByte: {
    value: 1.1126,
    unit: 'uncompressed bytes of the staged rows CSV per byte of log lines (what Snowpipe bills)',
    source: 'bench/results/formats.json (csv.gz bytesBilledPerLogByte)',
    asOf: READ,
  },
  csvStoredBytesPerLogByte: {
    value: 0.1935,
    unit: 'gzip CSV bytes written to S3 per byte of log lines',
    source: 'bench/results/formats.json (csv.gz bytesWrittenPerLogByte)',
    asOf: READ,
  },
  readAndParseCpuSecondsPerGb: {
    value: 10.93,
    unit: 'CPU seconds per GB of log lines: UTF-8 decode, line split, parse (readLogLines)',
    source: 'bench/results/parse.json (parserStreaming: 1.093 s per 100 MB)',
    asOf: '2026-11-26',
  },
  csvEncodeCpuSecondsPerGb: {
    value: 13.55,
    unit: 'CPU seconds per GB of log lines to write the rows as gzip CSV',
    source: 'bench/results/formats.json (csv.gz cpuSecondsPerGbOfLogs)',
    asOf: READ,
  },
  sdkCpuMicrosPerRow: {
    value: 9.7,
    unit: 'CPU microseconds per row of snowflake-sdk client work for array-bind INSERTs',
    source: '../shared/research/loading-and-cost.md (measured on this project)',
    asOf: READ,
  },
  avgLineBytes: {
    value: 702,
    unit: 'bytes per log line of the generated corpus (rows per GB = 1e9 / this)',
    source: 'bench/results/parse.json (input.avgLineBytes)',
    asOf: '2026-11-26',
  },
  lambdaMbPerVcpu: {
    value: 1769,
    unit: 'MB of function memory that buys one full vCPU (CPU share scales with memory)',
    source: 'docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html',
    asOf: READ,
  },
} satisfies Record<string, Sourced>;

/** What the model assumes where nothing could be measured here; docs/cost.md explains each. */
export const ASSUMPTIONS = {
  objectBytes: 1e6, // log objects of 1 MB when --objects-per-day is not given
  loaderAutoSuspendSeconds: 60, // sql/00-setup.sql: AUTO_SUSPEND = 60
  insertStatementSecondsPerInvocation: 1.5, // claim MERGE + INSERT(s) + COMMIT round trips, waited on by the function
  pipeS3SecondsPerObject: 0.15, // HEAD manifest, GET object, PUT rows/rejects/manifest
  insertS3SecondsPerObject: 0.05, // GET object
  pipeFilesPerObject: 3, // rows, rejects, manifest (LOAD_MODE=parsed)
  stagedFileDays: 14, // serverless.yml lifecycle rule on pipe/
  lambdaIdlePollsPerDay: 5 * (86400 / 20), // the event source's 5 pollers, 20 s long polls, when the queue is empty
  quickstartWarehouseCreditsPerHour: 4, // the quickstart's Medium warehouse
  quickstartAutoSuspendSeconds: 60, // the quickstart's AUTO_SUSPEND = 60
  quickstartTaskScheduleSeconds: 600, // its task runs every 10 minutes while the stream has rows
  quickstartTaskRunSeconds: 0, // the task's own run time: unknown here, so the quickstart figure is a lower bound
} as const;
