#!/usr/bin/env node
// Bundles each Lambda function with esbuild into dist/<function>/index.mjs (+ source map and
// esbuild metafile), then zips it to dist/<function>.zip, the artifact serverless.yml ships.
//
// We zip ourselves instead of letting `sls package` glob the project: osls globs the whole
// service directory (node_modules included) before filtering, which is slow, and a bundle needs
// none of it. The zip is deterministic (fixed timestamps, sorted entries), so an unchanged bundle
// yields a byte-identical artifact, and `sls deploy` (which compares artifact hashes)
// skips an update in which nothing changed.
//
// Usage: node build.mjs [function ...]   (default: every function; output dir: $S3AL_DIST_DIR or dist/)
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { lambdaStubs } from './build-stubs.mjs';

const root = path.dirname(fileURLToPath(import.meta.url));
// S3AL_DIST_DIR moves the output (serverless.yml reads the same variable); the deploy tests use
// a private directory so that concurrent runs in one checkout never see each other's half-built files.
const dist = path.resolve(root, process.env.S3AL_DIST_DIR || 'dist');

/** Function name (as in serverless.yml and dist/) → entry module exporting `handler`. */
export const FUNCTIONS = {
  ingest: 'functions/ingest/handler.ts',
  backfill: 'functions/backfill/handler.ts',
  'bucket-notification': 'functions/bucket-notification/handler.ts',
};

// snowflake-sdk and several of its dependencies are CommonJS and call require() on Node
// built-ins; in an ESM bundle that needs a real `require`. Some also read __dirname/__filename.
const BANNER = [
  "import { createRequire as __s3alCreateRequire } from 'node:module';",
  "import { fileURLToPath as __s3alFileURLToPath } from 'node:url';",
  "import { dirname as __s3alDirname } from 'node:path';",
  'const require = __s3alCreateRequire(import.meta.url);',
  'const __filename = __s3alFileURLToPath(import.meta.url);',
  'const __dirname = __s3alDirname(__filename);',
].join('\n');

// zod re-exports its ~50 locales as one namespace (`export * as locales`), which esbuild cannot
// tree-shake: about 260 KB per bundle for message translations nothing here uses. Its internal
// locales index resolves to a module with English alone, the locale zod registers by default.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer)
        ? { path: path.join(args.resolveDir, '../locales/en.js'), namespace: 'zod-english-only' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: path.dirname(args.path),
    }));
  },
};

/**
 * Bundles and zips one function into `outRoot`. `stubs: false` builds it without build-stubs.mjs
 * (everything snowflake-sdk requires, as before), for `npm run bench:bundle` to compare.
 */
export async function bundle(name, { outRoot = dist, stubs = true } = {}) {
  const entry = FUNCTIONS[name];
  if (!entry) throw new Error(`Unknown function "${name}"; known: ${Object.keys(FUNCTIONS).join(', ')}`);
  if (!existsSync(path.join(root, entry))) {
    throw new Error(`Cannot build "${name}": its entry ${entry} does not exist.`);
  }
  const outdir = path.join(outRoot, name);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const outfile = path.join(outdir, 'index.mjs');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    // The Lambda runtime is nodejs22.x (serverless.yml); Node 22 syntax is safe.
    target: 'node22',
    format: 'esm',
    minify: true,
    treeShaking: true,
    sourcemap: 'external',
    // Stack traces need only the mappings; leaving the sources out keeps the artifact small.
    sourcesContent: false,
    banner: { js: BANNER },
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
    // Modules snowflake-sdk loads only for stage clouds and logins the Lambdas never use: see build-stubs.mjs.
    // zod's locales are left out with or without them (zodEnglishOnly, above).
    plugins: stubs ? [zodEnglishOnly, lambdaStubs()] : [zodEnglishOnly],
  });
  writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  const files = ['index.mjs', 'index.mjs.map'].map((f) => ({
    name: f,
    data: readFileSync(path.join(outdir, f)),
  }));
  const zipPath = path.join(outRoot, `${name}.zip`);
  writeFileSync(zipPath, zip(files));
  return {
    name,
    bundleBytes: statSync(outfile).size,
    zipBytes: statSync(zipPath).size,
  };
}

/**
 * A minimal deterministic ZIP writer (deflate, no extra fields). Entries get a fixed DOS
 * timestamp (1980-01-01) and mode 0644 so identical input gives identical bytes.
 */
export function zip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  for (const { name, data } of [...files].sort((a, b) => a.name.localeCompare(b.name))) {
    const nameBuf = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBuf, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attrs
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attrs: regular file 0644
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const names = process.argv.slice(2);
  const started = performance.now();
  try {
    // Concurrently: esbuild overlaps one bundle's I/O with another's parsing.
    const results = await Promise.all((names.length ? names : Object.keys(FUNCTIONS)).map(bundle));
    for (const r of results) {
      const mb = (n) => `${(n / 1024 / 1024).toFixed(2)} MB`;
      const rel = path.relative(root, dist) || '.';
      console.log(`${rel}/${r.name}/index.mjs ${mb(r.bundleBytes)}  ${rel}/${r.name}.zip ${mb(r.zipBytes)}`);
    }
    console.log(`built ${results.length} function(s) in ${Math.round(performance.now() - started)} ms`);
  } catch (err) {
    console.error(`build failed: ${err instanceof Error ? err.message : err}`);
    process.exitCode = 1;
  }
}
