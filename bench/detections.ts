/**
 * `npm run bench:detections`: precision and recall of the detections on generated samples.
 *
 * For each seed, the sample (local/sample/) is loaded through the real local stack (fauxqs → ingest
 * → snowflake-local) and every detection runs over the default window (the 24 hours up to the
 * newest request: the incident day). A finding is a true positive when a planted incident of that
 * detection has the same principal, source IP and bucket (truth.planted); every other finding is a
 * false positive. precision = true positives / findings; recall = planted incidents found / planted.
 * The background traffic differs by seed and scale; the incidents and look-alikes do not.
 * Writes bench/results/detections.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '../local/stack.ts';
import { generateSample } from '../local/sample/index.ts';
import { defaultWindow, loadDetections, runDetections } from '../shared/snowflake/detections.ts';

/** Samples: the default one, other seeds, and busier background traffic (scale = request-rate multiplier). */
const SAMPLES: Array<{ seed: number | string; scale: number }> = [
  { seed: 20261116, scale: 1 },
  { seed: 1, scale: 1 },
  { seed: 2, scale: 1 },
  { seed: 3, scale: 1 },
  { seed: 'demo', scale: 1 },
  { seed: 4, scale: 4 },
  { seed: 5, scale: 4 },
];

type Key = { principal: string | null; ip: string | null; bucket: string };
const keyOf = (k: Key) => `${k.principal ?? '-'} | ${k.ip ?? '-'} | ${k.bucket}`;

interface Tally {
  findings: number;
  truePositives: number;
  planted: number;
  found: number;
  falsePositives: string[];
  missed: string[];
}

async function runSample(
  { seed, scale }: { seed: number | string; scale: number },
  detections: ReturnType<typeof loadDetections>,
): Promise<Record<string, Tally>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 's3al-bench-detections-'));
  const stack = await startStack({ awsPort: 0, snowflakePort: 0, dataDir, logLevel: 'SILENT' });
  try {
    await stack.load({ kind: 'sample', options: { seed, scale } });
    const conn = await stack.connections.get();
    const window = (await defaultWindow(conn))!;
    const results = await runDetections(conn, detections, window);
    const { planted } = generateSample({ seed, scale }).truth;
    const out: Record<string, Tally> = {};
    for (const { detection, rows } of results) {
      const want = new Set(planted.filter((p) => p.detection === detection.name).map(keyOf));
      const got = rows.map((r) =>
        keyOf({ principal: r.PRINCIPAL as string | null, ip: r.SOURCE_IP as string | null, bucket: String(r.BUCKET) }),
      );
      out[detection.name] = {
        findings: got.length,
        truePositives: got.filter((k) => want.has(k)).length,
        planted: want.size,
        found: [...want].filter((k) => got.includes(k)).length,
        falsePositives: got.filter((k) => !want.has(k)),
        missed: [...want].filter((k) => !got.includes(k)),
      };
    }
    return out;
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 1000) / 1000);

async function main(): Promise<void> {
  const detections = loadDetections();
  const perSeed: Record<string, Record<string, Tally>> = {};
  for (const sample of SAMPLES) {
    const name = `seed ${sample.seed} scale ${sample.scale}`;
    perSeed[name] = await runSample(sample, detections);
    process.stderr.write(`${name}: done\n`);
  }
  const perDetection: Record<
    string,
    {
      findings: number;
      truePositives: number;
      planted: number;
      found: number;
      precision: number | null;
      recall: number | null;
    }
  > = {};
  for (const d of detections) {
    const t = Object.values(perSeed).map((s) => s[d.name]!);
    const sum = (f: (x: Tally) => number) => t.reduce((n, x) => n + f(x), 0);
    const findings = sum((x) => x.findings);
    const truePositives = sum((x) => x.truePositives);
    const planted = sum((x) => x.planted);
    const found = sum((x) => x.found);
    perDetection[d.name] = {
      findings,
      truePositives,
      planted,
      found,
      precision: ratio(truePositives, findings),
      recall: ratio(found, planted),
    };
  }
  const all = Object.values(perDetection);
  const total = (f: (x: (typeof all)[number]) => number) => all.reduce((n, x) => n + f(x), 0);
  const result = {
    benchmark: 'detections',
    command: 'npm run bench:detections',
    date: new Date().toISOString(),
    what: 'findings of sql/detections/*.sql over the default window of generated samples, matched to the planted incidents (principal, source IP, bucket)',
    samples: SAMPLES,
    overall: {
      findings: total((x) => x.findings),
      truePositives: total((x) => x.truePositives),
      planted: total((x) => x.planted),
      found: total((x) => x.found),
      precision: ratio(
        total((x) => x.truePositives),
        total((x) => x.findings),
      ),
      recall: ratio(
        total((x) => x.found),
        total((x) => x.planted),
      ),
    },
    perDetection,
    falsePositives: Object.fromEntries(
      Object.entries(perSeed).flatMap(([seed, s]) =>
        Object.entries(s)
          .filter(([, t]) => t.falsePositives.length)
          .map(([d, t]) => [`${seed} ${d}`, t.falsePositives]),
      ),
    ),
    missed: Object.fromEntries(
      Object.entries(perSeed).flatMap(([seed, s]) =>
        Object.entries(s)
          .filter(([, t]) => t.missed.length)
          .map(([d, t]) => [`${seed} ${d}`, t.missed]),
      ),
    ),
  };
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'detections.json');
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result.overall)}\n${out}\n`);
}

await main();
