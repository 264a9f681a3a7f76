#!/usr/bin/env node
// Compiles the `s3-access-logs` command to JavaScript in dist/cli/, so that it starts without
// transpiling TypeScript (tsx costs ~0.8 s per run). npm runs this as the `prepare` script during
// `npm ci`/`npm install`, and the test suite runs it before the tests (test/global-setup.ts), so the
// tests exercise the same files a user runs.
//
// One ESM bundle with code splitting: every `await import('./x.ts')` stays a separate chunk, loaded
// only by the command that needs it, as in the sources. Packages stay external (loaded from
// node_modules as usual): DuckDB is a native module and the SDKs are big.
//
// The output is written next to dist/cli and renamed into place, so a concurrent run never sees
// half a build. Usage: node cli/build.mjs
import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_DIST = path.join(root, 'dist', 'cli');

export async function buildCli() {
  const { build } = await import('esbuild');
  const tmp = `${CLI_DIST}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: { main: 'cli/main.ts' },
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  });
  rmSync(CLI_DIST, { recursive: true, force: true });
  renameSync(tmp, CLI_DIST);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    await buildCli();
  } catch (err) {
    // Installed without dev dependencies (npm ci --omit=dev): no esbuild, so no compiled CLI.
    // bin/s3-access-logs.mjs then runs the sources through tsx; an install must not fail for it.
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && /esbuild/.test(err.message)) {
      console.error(
        's3-access-logs: esbuild is not installed, so the CLI was not compiled; it will run from the TypeScript sources (slower to start).',
      );
      process.exit(0);
    }
    console.error(`s3-access-logs: building the CLI failed: ${err instanceof Error ? err.message : err}`);
    process.exitCode = 1;
  }
}
