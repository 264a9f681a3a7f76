/**
 * `npm run soak [-- --objects N --seed S --out FILE]`: the soak (bench/soak/harness.ts) at full
 * size, for the `insert` load method; prints the figures and writes them to bench/results/soak.json.
 * Exits 1 when anything was lost, duplicated, dead-lettered or broke the ledger invariant.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runSoak } from './soak/harness.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '7' },
    out: { type: 'string', default: 'bench/results/soak.json' },
  },
});
const report = await runSoak({ objects: Number(values.objects), seed: Number(values.seed), log: (l) => console.error(l) });
const result = { method: 'insert', ranAt: new Date().toISOString(), node: process.version, ...report };
writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
const bad = report.lost + report.duplicates + report.dlq + report.ledgerInvariantViolations;
process.exit(bad === 0 ? 0 : 1);
