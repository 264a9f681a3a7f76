/**
 * `s3-access-logs cost --gb-per-day N`: what loading N GB of access logs a day costs, in Snowflake
 * credits and dollars, with each load method and with the quickstart's design; formulas, prices
 * and their sources from cli/cost/ (docs/cost.md explains the model).
 */
import { Option, type Command } from 'commander';
import { costPerDay, legacyPipeFileCredits, type CostReport, type Method } from './cost/model.ts';
import { ASSUMPTIONS, PRICES, RATES } from './cost/prices.ts';
import { CliError } from './errors.ts';

interface Opts {
  gbPerDay: string;
  objectsPerDay?: string;
  method?: 'pipe' | 'insert';
  batchingWindow: string;
  batchSize: string;
  memoryMb: string;
  creditPrice?: string;
  json?: boolean;
}

function num(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < min) {
    throw new CliError(`--${name} must be a number of at least ${min}, got "${raw}".`, 2);
  }
  return v;
}

const usd = (x: number) => (x < 0.01 ? `$${x.toFixed(4)}` : `$${x.toFixed(2)}`);
const credits = (x: number) => (x < 1 ? x.toFixed(4) : x.toFixed(2));

export function formatReport(r: CostReport, methods: Method[]): string {
  const i = r.input;
  const out: string[] = [
    `Cost per day of ${i.gbPerDay} GB of access logs in ${i.objectsPerDay} log objects ` +
      `(${Math.round(r.invocationsPerDay)} ingest invocations: batching window ${i.batchingWindowSeconds} s, batch size ${i.batchSize}), ` +
      `at $${i.creditPriceUsd.toFixed(2)} per credit (--credit-price to change).`,
    '',
    `${'method'.padEnd(12)}${'credits/day'.padStart(13)}${'Snowflake/day'.padStart(15)}${'AWS/day'.padStart(10)}${'total/day'.padStart(11)}`,
  ];
  for (const m of methods.map((k) => r.methods[k])) {
    out.push(
      `${m.method.padEnd(12)}${credits(m.credits).padStart(13)}${usd(m.snowflakeUsd).padStart(15)}${usd(m.awsUsd).padStart(10)}${usd(m.totalUsd).padStart(11)}`,
    );
  }
  for (const m of methods.map((k) => r.methods[k])) {
    out.push('', `${m.method}: ${credits(m.credits)} credits = ${m.creditsFormula}`);
    for (const a of m.aws) out.push(`  ${a.item}: ${usd(a.usd)} = ${a.formula}`);
  }
  if (methods.includes('pipe')) {
    out.push(
      '',
      `Snowflake's "Snowpipe costs" page moves Business Critical and VPS accounts to per-GB billing from 2025-08-01, Standard and Enterprise later;` +
        ` on the previous pricing, pipe would instead pay ${credits(legacyPipeFileCredits(i.objectsPerDay))} credits/day of per-file overhead` +
        ` (${i.objectsPerDay * ASSUMPTIONS.pipeFilesPerObject} files × 0.06/1000) plus Snowpipe compute.`,
    );
  }
  out.push(
    '',
    `Prices as of ${PRICES.snowpipeCreditsPerGb.asOf} (AWS: us-east-1 list prices, no free tier); sources: --json, docs/cost.md.`,
  );
  return out.join('\n');
}

export function register(program: Command): void {
  program
    .command('cost')
    .description(
      'Snowflake credits and AWS dollars per day of loading N GB of logs, per load method and for the quickstart',
    )
    .requiredOption('--gb-per-day <n>', 'GB (10^9 bytes) of access-log lines per day')
    .option('--objects-per-day <m>', 'log objects per day (default: 1 MB objects)')
    .addOption(new Option('--method <method>', 'show one load method (and the quickstart)').choices(['pipe', 'insert']))
    .option('--batching-window <s>', 'ingest batching window, seconds (deploy parameter batchingWindow)', '5')
    .option('--batch-size <n>', 'log objects per ingest invocation at most (deploy parameter batchSize)', '10')
    .option('--memory-mb <n>', 'ingest function memory, MB', '1024')
    .option(
      '--credit-price <usd>',
      `USD per Snowflake credit (default ${PRICES.creditPriceUsd.value}: Enterprise, on demand, AWS US East)`,
    )
    .option('--json', 'print the full breakdown with formulas, prices and sources as JSON')
    .action((opts: Opts) => {
      const report = costPerDay({
        gbPerDay: num('gb-per-day', opts.gbPerDay, 0)!,
        objectsPerDay: num('objects-per-day', opts.objectsPerDay, 0),
        batchingWindowSeconds: num('batching-window', opts.batchingWindow, 0),
        batchSize: num('batch-size', opts.batchSize, 1),
        memoryMb: num('memory-mb', opts.memoryMb, 128),
        creditPriceUsd: num('credit-price', opts.creditPrice, 0),
      });
      const methods: Method[] = opts.method ? [opts.method, 'quickstart'] : ['pipe', 'insert', 'quickstart'];
      if (opts.json) {
        const picked = Object.fromEntries(methods.map((m) => [m, report.methods[m]]));
        process.stdout.write(
          `${JSON.stringify({ ...report, methods: picked, prices: PRICES, rates: RATES, assumptions: ASSUMPTIONS }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(`${formatReport(report, methods)}\n`);
      }
    });
}
