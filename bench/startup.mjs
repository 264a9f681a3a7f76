#!/usr/bin/env node
/**
 * `npm run bench:startup`: wall time of `s3-access-logs --version` (the compiled CLI in dist/cli/)
 * against a bare `node -e 0`, measured side by side: the runs alternate, so machine noise hits all
 * alike, and the median of each is compared. Also `--help` (loads every command's module), a
 * command's own help, and the same `--version` run from the TypeScript sources through tsx (what
 * every command paid before the CLI was compiled).
 *
 *   npm run bench:startup                 # print only
 *   npm run bench:startup -- --write      # also record bench/results/startup.json
 *   RUNS=40 npm run bench:startup
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/s3-access-logs.mjs');
const resultsFile = path.join(root, 'bench/results/startup.json');
const RUNS = Number(process.env.RUNS ?? 20);
const SOURCE_RUNS = Math.max(3, Math.round(RUNS / 4));

if (!existsSync(path.join(root, 'dist/cli/main.mjs'))) {
  console.error('bench:startup: dist/cli/main.mjs is missing; run "npm run build:cli" (npm ci does it) first.');
  process.exit(1);
}

const cases = [
  { name: 'node -e 0', args: ['-e', '0'], runs: RUNS },
  { name: 's3-access-logs --version', args: [bin, '--version'], runs: RUNS },
  { name: 's3-access-logs --help', args: [bin, '--help'], runs: RUNS },
  { name: 's3-access-logs parse --help', args: [bin, 'parse', '--help'], runs: RUNS },
  {
    name: 's3-access-logs --version (tsx, sources)',
    args: [bin, '--version'],
    runs: SOURCE_RUNS,
    env: { S3AL_FROM_SOURCE: '1' },
  },
];

function once(c) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, {
    env: { ...process.env, ...c.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// One warm-up each (file cache), then interleaved rounds.
for (const c of cases) once(c);
const times = new Map(cases.map((c) => [c.name, []]));
for (let i = 0; i < RUNS; i++) {
  for (const c of cases) if (i < c.runs) times.get(c.name).push(once(c));
}

const nodeMs = median(times.get('node -e 0'));
const results = cases.map((c) => {
  const xs = times.get(c.name);
  const med = median(xs);
  return {
    name: c.name,
    runs: xs.length,
    medianMs: +med.toFixed(1),
    minMs: +Math.min(...xs).toFixed(1),
    vsNode: +(med / nodeMs).toFixed(2),
  };
});
const version = results[1];
console.log(
  `startup wall time, median of interleaved runs (load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')})`,
);
for (const r of results) {
  console.log(
    `  ${r.name.padEnd(40)} ${String(r.medianMs).padStart(7)} ms  (min ${r.minMs}, ${r.runs} runs)  ${r.vsNode}x node -e 0`,
  );
}
console.log(`goal: --version within 2x of node -e 0: ${version.vsNode}x, ${version.vsNode <= 2 ? 'met' : 'MISSED'}`);

if (process.argv.includes('--write')) {
  const result = {
    benchmark: 'startup',
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      loadAverageAtEnd: os.loadavg().map((x) => +x.toFixed(1)),
      note: 'shared machine; the cases alternate run by run so that load hits all of them alike',
    },
    results,
    goal: {
      what: 's3-access-logs --version wall time within 2x of node -e 0',
      actual: version.vsNode,
      met: version.vsNode <= 2,
    },
    command: 'npm run bench:startup -- --write',
  };
  writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path.relative(root, resultsFile)}`);
}
