#!/usr/bin/env node
/**
 * `npm run bench:bundle`: what build-stubs.mjs saves. Builds every Lambda twice in the same run,
 * with the stubs (as `npm run build` does) and without them (everything snowflake-sdk requires, as
 * before), and compares the bundles' and zips' bytes and the cold import of each bundle: a fresh
 * `node` process that imports index.mjs (from an empty directory, no node_modules), timed inside
 * the process around the import() and as the whole process's wall time. The runs alternate between
 * the variants (each round in the opposite order to the last), so machine noise hits both alike,
 * and the medians are compared.
 *
 *   npm run bench:bundle                 # print only
 *   npm run bench:bundle -- --write      # also record bench/results/bundle.json
 *   RUNS=30 npm run bench:bundle
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, FUNCTIONS } from '../build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = path.join(root, 'bench/results/bundle.json');
const RUNS = Number(process.env.RUNS ?? 15);
const VARIANTS = { without: false, with: true };

const work = mkdtempSync(path.join(os.tmpdir(), 's3al-bench-bundle-'));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * One cold import in a fresh process: [ms inside the process around import(), CPU ms the process
 * used up to then (user + system, less disturbed by other load than wall time), ms of the whole process].
 */
function coldImport(file, cwd) {
  const script = `const t = performance.now(); const m = await import(${JSON.stringify(file)});
    if (typeof m.handler !== 'function') throw new Error('no handler');
    const cpu = process.cpuUsage();
    process.stdout.write(JSON.stringify([performance.now() - t, (cpu.user + cpu.system) / 1000]));`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    encoding: 'utf8',
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`importing ${file} exited ${r.status}: ${r.stderr}`);
  return [...JSON.parse(r.stdout), wall];
}

try {
  const sizes = {};
  for (const [variant, stubs] of Object.entries(VARIANTS)) {
    // Next to dist/, at its depth: the source map's relative paths, so the zip's bytes, are those of `npm run build`.
    const outRoot = path.join(root, `dist-bench-${variant}`);
    rmSync(outRoot, { recursive: true, force: true });
    for (const name of Object.keys(FUNCTIONS)) {
      const r = await bundle(name, { outRoot, stubs });
      sizes[name] ??= {};
      sizes[name][variant] = { bundleBytes: r.bundleBytes, zipBytes: r.zipBytes };
    }
  }

  // Each bundle copied alone into an empty directory, so nothing resolves from node_modules.
  const cwd = path.join(work, 'run');
  mkdirSync(cwd);
  const files = {};
  for (const name of Object.keys(FUNCTIONS)) {
    for (const variant of Object.keys(VARIANTS)) {
      const file = path.join(cwd, `${name}-${variant}.mjs`);
      copyFileSync(path.join(root, `dist-bench-${variant}`, name, 'index.mjs'), file);
      files[`${name}/${variant}`] = file;
    }
  }
  const samples = Object.fromEntries(Object.keys(files).map((k) => [k, { importMs: [], cpuMs: [], processMs: [] }]));
  for (const file of Object.values(files)) coldImport(file, cwd); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    // Every other round in reverse order, so no variant always runs right after the same neighbour.
    const round = Object.entries(files);
    for (const [key, file] of i % 2 ? round.reverse() : round) {
      const [importMs, cpuMs, processMs] = coldImport(file, cwd);
      samples[key].importMs.push(importMs);
      samples[key].cpuMs.push(cpuMs);
      samples[key].processMs.push(processMs);
    }
  }

  const functions = {};
  const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
  for (const name of Object.keys(FUNCTIONS)) {
    const row = { ...sizes[name] };
    for (const variant of Object.keys(VARIANTS)) {
      const s = samples[`${name}/${variant}`];
      row[variant].coldImportMs = Math.round(median(s.importMs));
      row[variant].coldCpuMs = Math.round(median(s.cpuMs));
      row[variant].coldProcessMs = Math.round(median(s.processMs));
    }
    const a = row.without;
    const b = row.with;
    row.saved = {
      bundleBytes: a.bundleBytes - b.bundleBytes,
      zipBytes: a.zipBytes - b.zipBytes,
      bundleRatio: +(b.bundleBytes / a.bundleBytes).toFixed(3),
      zipRatio: +(b.zipBytes / a.zipBytes).toFixed(3),
      coldImportRatio: +(b.coldImportMs / a.coldImportMs).toFixed(2),
      coldCpuRatio: +(b.coldCpuMs / a.coldCpuMs).toFixed(2),
      coldProcessRatio: +(b.coldProcessMs / a.coldProcessMs).toFixed(2),
    };
    functions[name] = row;
    console.log(
      `${name.padEnd(20)} index.mjs ${kb(a.bundleBytes)} → ${kb(b.bundleBytes)} (${row.saved.bundleRatio}x)` +
        `  zip ${kb(a.zipBytes)} → ${kb(b.zipBytes)} (${row.saved.zipRatio}x)` +
        `  cold import ${a.coldImportMs} → ${b.coldImportMs} ms (${row.saved.coldImportRatio}x)` +
        `  CPU ${a.coldCpuMs} → ${b.coldCpuMs} ms (${row.saved.coldCpuRatio}x)` +
        `  process ${a.coldProcessMs} → ${b.coldProcessMs} ms (${row.saved.coldProcessRatio}x)`,
    );
  }
  console.log(`(median of ${RUNS} alternating runs; "without" = no build-stubs.mjs, "with" = npm run build)`);

  if (process.argv.includes('--write')) {
    const result = {
      benchmark: 'bench/bundle-size.mjs',
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      runs: RUNS,
      note:
        'without = build.mjs without build-stubs.mjs (what main built before), with = npm run build; ' +
        'coldImportMs = median ms around import() of index.mjs in a fresh node process, coldCpuMs = CPU ms (user+system) ' +
        "that process used by then, coldProcessMs = that process's wall time. Machine shared with other jobs: compare ratios.",
      functions,
    };
    writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${path.relative(root, resultsFile)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  for (const variant of Object.keys(VARIANTS))
    rmSync(path.join(root, `dist-bench-${variant}`), { recursive: true, force: true });
}
