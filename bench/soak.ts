/**
 * `npm run soak [-- --method insert|pipe --objects N --seed S --out FILE]`: the soak
 * (local/harness/soak/harness.ts) at full size; prints the figures and writes them to
 * bench/results/soak.json (insert) or bench/results/soak-pipe.json (pipe).
 * Exits 1 when anything was lost, duplicated, dead-lettered or broke the ledger invariant (lost =
 * not loaded and not in the DLQ; dead-lettered objects are counted apart).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runSoak } from '../local/harness/soak/harness.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '7' },
    method: { type: 'string', default: 'insert' },
    out: { type: 'string' },
  },
});
const method = values.method === 'pipe' ? 'pipe' : 'insert';
const report = await runSoak({
  objects: Number(values.objects),
  seed: Number(values.seed),
  method,
  log: (l) => console.error(l),
});
const result = { method, ranAt: new Date().toISOString(), node: process.version, ...report };
writeFileSync(
  values.out ?? (method === 'pipe' ? 'bench/results/soak-pipe.json' : 'bench/results/soak.json'),
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log(JSON.stringify(result, null, 2));
console.error(
  `lost ${report.lost}, duplicated ${report.duplicates}, dead-lettered ${report.deadLettered} ` +
    `(${report.dlq} DLQ messages), ledger invariant violations ${report.ledgerInvariantViolations}`,
);
const bad = report.lost + report.duplicates + report.dlq + report.ledgerInvariantViolations;
process.exit(bad === 0 ? 0 : 1);
