// The cost model's formulas against numbers worked out by hand (docs/cost.md shows the same sums).
import { describe, expect, it } from 'vitest';
import { awakeFraction, costPerDay, invocationsPerDay, legacyPipeFileCredits } from '../../../cli/cost/model.ts';

const item = (r: ReturnType<typeof costPerDay>, m: 'pipe' | 'insert' | 'quickstart', name: string) =>
  r.methods[m].aws.find((a) => a.item.startsWith(name))!.usd;

describe('cost model', () => {
  it('invocations: one per object until a batching window holds more than one, then a window of objects, at most batchSize', () => {
    expect(invocationsPerDay(0, 5, 10)).toBe(0);
    // 10,000/day = 0.116/s: a 5 s window holds 0.58 objects, so every object is its own invocation.
    expect(invocationsPerDay(10_000, 5, 10)).toBe(10_000);
    // 100,000/day: 5.79 objects per window → one invocation per window = 86,400 / 5.
    expect(invocationsPerDay(100_000, 5, 10)).toBeCloseTo(17_280, 6);
    // 1,000,000/day: 57.9 per window, capped at batchSize 10.
    expect(invocationsPerDay(1_000_000, 5, 10)).toBeCloseTo(100_000, 6);
    expect(invocationsPerDay(10_000, 0, 10)).toBe(10_000);
  });

  it('awake fraction of a Poisson-arrival warehouse: 1 − e^(−rate × hold)', () => {
    expect(awakeFraction(86_400, 1)).toBeCloseTo(1 - Math.exp(-1), 12); // 0.632
    expect(awakeFraction(0, 60)).toBe(0);
    expect(awakeFraction(1_000_000, 61.5)).toBeCloseTo(1, 12);
  });

  it('1 GB/day (1,000 objects): pipe 0.00412 credits; insert 12.22 (warehouse up half the day); quickstart 9.60', () => {
    const r = costPerDay({ gbPerDay: 1 });
    expect(r.input.objectsPerDay).toBe(1000);
    // 1 GB × 1.1126 × 0.0037
    expect(r.methods.pipe.credits).toBeCloseTo(0.00411662, 8);
    // 24 × (1 − e^(−1000/86400 × 61.5)) = 24 × (1 − e^(−0.711806)) = 24 × 0.509243
    expect(r.methods.insert.credits).toBeCloseTo(12.2218, 3);
    // 144 × (1 − e^(−1000/86400 × 600)) = 143.86 runs × 60 s × 4 credits/h + 1 × 0.0037
    expect(r.methods.quickstart.credits).toBeCloseTo(143.8614 * (60 / 3600) * 4 + 0.0037, 3);
  });

  it('10 GB/day: credits, dollars at $3 per credit, and the AWS side line by line', () => {
    const r = costPerDay({ gbPerDay: 10 });
    expect(r.invocationsPerDay).toBe(10_000);
    expect(r.methods.pipe.credits).toBeCloseTo(0.0411662, 7);
    expect(r.methods.pipe.snowflakeUsd).toBeCloseTo(0.1234986, 6);
    expect(r.methods.insert.credits).toBeCloseTo(24 * (1 - Math.exp(-(10_000 / 86_400) * 61.5)), 9); // 23.98
    expect(r.methods.quickstart.credits).toBeCloseTo(9.6 + 0.037, 6);
    // 30,000 staged files × $0.005/1000
    expect(item(r, 'pipe', 'S3 PUT')).toBeCloseTo(0.15, 9);
    // (1 GET + 1 HEAD + 3 Snowpipe GETs) × 10,000 × $0.0004/1000
    expect(item(r, 'pipe', 'S3 GET')).toBeCloseTo(0.02, 9);
    // 10 GB × 0.1935 × 14 days = 27.09 GB × $0.023 × 12 / 365
    expect(item(r, 'pipe', 'S3 storage')).toBeCloseTo((27.09 * 0.023 * 12) / 365, 9);
    // (10,000 sends + 2 × 10,000 batches + 21,600 idle polls) × $0.40/M
    expect(item(r, 'pipe', 'SQS')).toBeCloseTo(51_600 * 0.4e-6, 12);
    expect(item(r, 'insert', 'SQS')).toBeCloseTo(51_600 * 0.4e-6, 12);
    // (10 GB × (10.93 + 13.55) CPU-s ÷ (1024/1769) vCPU + 10,000 × 0.15 s) × 1 GB × $0.0000133334
    expect(item(r, 'pipe', 'Lambda duration')).toBeCloseTo(((10 * 24.48) / (1024 / 1769) + 1500) * 0.0000133334, 9);
    expect(item(r, 'pipe', 'Lambda requests')).toBeCloseTo(0.002, 12);
    // insert waits on Snowflake: + 10,000 × 1.5 s; CPU 10.93 + 1e9/702 × 9.7 µs = 24.748 s/GB; GET 0.05 s/object
    const insertSeconds = (10 * (10.93 + (1e9 / 702) * 9.7e-6)) / (1024 / 1769) + 500 + 15_000;
    expect(item(r, 'insert', 'Lambda duration')).toBeCloseTo(insertSeconds * 0.0000133334, 9);
    for (const m of Object.values(r.methods)) {
      expect(m.awsUsd).toBeCloseTo(
        m.aws.reduce((s, a) => s + a.usd, 0),
        12,
      );
      expect(m.totalUsd).toBeCloseTo(m.snowflakeUsd + m.awsUsd, 12);
    }
  });

  it('100 GB/day: pipe stays per-GB (0.412 credits), insert saturates at 24, quickstart ~9.97', () => {
    const r = costPerDay({ gbPerDay: 100 });
    expect(r.invocationsPerDay).toBeCloseTo(17_280, 6);
    expect(r.methods.pipe.credits).toBeCloseTo(0.411662, 6);
    expect(r.methods.insert.credits).toBeCloseTo(24, 3);
    expect(r.methods.quickstart.credits).toBeCloseTo(9.6 + 0.37, 6);
    // The ratio the README states: insert costs hundreds of times pipe's credits.
    expect(r.methods.insert.credits / r.methods.pipe.credits).toBeGreaterThan(50);
  });

  it('credit price, object count, batching window and memory are inputs', () => {
    const r = costPerDay({
      gbPerDay: 10,
      objectsPerDay: 500,
      creditPriceUsd: 2,
      batchingWindowSeconds: 60,
      memoryMb: 2048,
    });
    expect(r.methods.pipe.snowflakeUsd).toBeCloseTo(0.0411662 * 2, 7);
    expect(item(r, 'pipe', 'S3 PUT')).toBeCloseTo(1500 * 0.000005, 12);
    // 500 objects/day: a 60 s window holds 0.35, so 500 invocations; the warehouse is up 1 − e^(−500/86400 × 61.5).
    expect(r.invocationsPerDay).toBe(500);
    expect(r.methods.insert.credits).toBeCloseTo(24 * (1 - Math.exp(-(500 / 86_400) * 61.5)), 9);
    // 2048 MB is a full vCPU (capped at 1) and 2 GB per second.
    expect(item(r, 'pipe', 'Lambda duration')).toBeCloseTo((10 * 24.48 + 500 * 0.15) * 2 * 0.0000133334, 9);
  });

  it('previous Snowpipe pricing: 0.06 credits per 1,000 files, 3 files per object', () => {
    expect(legacyPipeFileCredits(10_000)).toBeCloseTo(1.8, 12);
  });

  it('rejects negative or non-numeric inputs with a sentence naming the input', () => {
    expect(() => costPerDay({ gbPerDay: -1 })).toThrow(/gbPerDay must be a number of 0 or more, got -1/);
    expect(() => costPerDay({ gbPerDay: Number.NaN })).toThrow(/gbPerDay/);
    expect(() => costPerDay({ gbPerDay: 1, batchSize: 0 })).toThrow(/batchSize must be at least 1/);
  });
});

describe('cost model rates', () => {
  it('are the numbers the committed benchmarks measured (rerunning a benchmark means updating cli/cost/prices.ts)', async () => {
    const { readFileSync } = await import('node:fs');
    const { RATES } = await import('../../../cli/cost/prices.ts');
    const formats = JSON.parse(readFileSync(new URL('../../../bench/results/formats.json', import.meta.url), 'utf8'));
    const parse = JSON.parse(readFileSync(new URL('../../../bench/results/parse.json', import.meta.url), 'utf8'));
    const csv = formats.results['csv.gz'];
    expect(RATES.csvBilledBytesPerLogByte.value).toBe(csv.bytesBilledPerLogByte);
    expect(RATES.csvStoredBytesPerLogByte.value).toBe(csv.bytesWrittenPerLogByte);
    expect(RATES.csvEncodeCpuSecondsPerGb.value).toBe(csv.cpuSecondsPerGbOfLogs);
    const streaming = parse.results.parserStreaming;
    expect(RATES.readAndParseCpuSecondsPerGb.value).toBeCloseTo(streaming.cpuSeconds / (parse.input.bytes / 1e9), 2);
    expect(RATES.avgLineBytes.value).toBe(parse.input.avgLineBytes);
  });
});
