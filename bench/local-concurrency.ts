/**
 * `npm run bench:local-concurrency`: the local stack loading the default sample (`npm start`'s
 * load) with the deployed maximum concurrency (local/settings.ts: 5 batches at once) against one
 * batch at a time (the local stack's setting before the settings were shared with the template),
 * for both load methods. Rounds alternate the settings so that a noisy machine affects both alike;
 * the ratio is the median of concurrency 1 over the median of the deployed concurrency.
 * Writes bench/results/local-concurrency.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { localIngestSettings } from '../local/settings.ts';
import { startStack } from '../local/stack.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const resultsFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'results/local-concurrency.json');
const deployed = localIngestSettings().concurrency;

interface Run {
  ms: number;
  objects: number;
  invocations: number;
  maxInFlight: number;
}

async function loadOnce(method: 'pipe' | 'insert', concurrency: number): Promise<Run> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 's3al-bench-concurrency-'));
  const stack = await startStack({
    awsPort: 0,
    snowflakePort: 0,
    dataDir,
    logLevel: 'SILENT',
    loadMethod: method,
    concurrency,
  });
  try {
    const s = await stack.load({ kind: 'sample' });
    if (s.dlq !== 0 || s.objects === 0) throw new Error(`${method} did not load the sample: ${JSON.stringify(s)}`);
    return {
      ms: Math.round(s.ms),
      objects: s.objects,
      invocations: stack.batches.invocations,
      maxInFlight: stack.batches.maxInFlight,
    };
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const runs: Record<string, Run[]> = {};
for (let round = 0; round < ROUNDS; round++)
  for (const method of ['pipe', 'insert'] as const)
    for (const concurrency of round % 2 ? [deployed, 1] : [1, deployed]) {
      const run = await loadOnce(method, concurrency);
      (runs[`${method} concurrency ${concurrency}`] ??= []).push(run);
      console.log(
        `${method} concurrency ${concurrency}: ${run.ms} ms, ${run.invocations} invocations, at most ${run.maxInFlight} at once`,
      );
    }

const ratios: Record<string, number> = {};
for (const method of ['pipe', 'insert']) {
  const one = median(runs[`${method} concurrency 1`]!.map((r) => r.ms));
  const many = median(runs[`${method} concurrency ${deployed}`]!.map((r) => r.ms));
  ratios[`${method}: load time at concurrency 1 / at ${deployed}`] = Number((one / many).toFixed(2));
}
console.log(ratios);
const cpus = os.cpus();
writeFileSync(
  resultsFile,
  `${JSON.stringify(
    {
      bench: 'local-concurrency',
      date: new Date().toISOString(),
      machine: { cpu: cpus[0]?.model, cores: cpus.length, node: process.version, loadavg: os.loadavg() },
      rounds: ROUNDS,
      ratios,
      runs,
    },
    null,
    2,
  )}\n`,
);
