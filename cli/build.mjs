#!/usr/bin/env node
// Compiles the `s3-access-logs` command to JavaScript in dist/cli/, so that it starts without
// transpiling TypeScript (tsx costs ~0.8 s per run). npm runs this as the `prepare` script during
// `npm ci`/`npm install`, and the test suite runs it before the tests (test/global-setup.ts), so the
// tests exercise the same files a user runs.
//
// One ESM bundle with code splitting: every `await import('./x.ts')` stays a separate chunk, loaded
// only by the command that needs it, as in the sources. Packages stay external (loaded from
// node_modules as usual): DuckDB is a native module and the SDKs are big. The workspace packages
// (packages/*, e.g. snowflake-local) are the exception: they ship TypeScript sources, which plain
// Node cannot load, so they are compiled into the bundle like the CLI's own files.
//
// The output is written next to dist/cli and renamed into place, so a concurrent run never sees
// half a build. Usage: node cli/build.mjs
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
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
    plugins: [externalExceptWorkspaces()],
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  });
  rmSync(CLI_DIST, { recursive: true, force: true });
  renameSync(tmp, CLI_DIST);
}

/**
 * Marks every bare import (`snowflake-sdk`, `@aws-sdk/client-s3/...`) external, except the workspace
 * packages, whose sources are compiled in. Their own dependencies stay external and resolve from the
 * root node_modules, which holds them while npm hoists them (a version a workspace pins apart from
 * the root's would be nested under packages/<name>/node_modules, and the build refuses that).
 */
function externalExceptWorkspaces() {
  const dirs = readdirSync(path.join(root, 'packages')).filter((dir) =>
    existsSync(path.join(root, 'packages', dir, 'package.json')),
  );
  const manifests = dirs.map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')),
  }));
  for (const { dir, manifest } of manifests) {
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (existsSync(path.join(root, 'packages', dir, 'node_modules', dep)))
        throw new Error(
          `packages/${dir}/node_modules/${dep} exists: the compiled CLI would load the root's copy of ${dep} instead; give it the root package.json's version and run npm install.`,
        );
    }
  }
  const workspaces = new Set(manifests.map(({ manifest }) => manifest.name));
  return {
    name: 'external-except-workspaces',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = args.path.startsWith('@') ? args.path.split('/', 2).join('/') : args.path.split('/')[0];
        return workspaces.has(name) ? undefined : { path: args.path, external: true };
      });
    },
  };
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
