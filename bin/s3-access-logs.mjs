#!/usr/bin/env node
// Runs the compiled CLI in dist/cli/ (built by `npm ci` through the `prepare` script, see
// cli/build.mjs): no TypeScript to transpile at start-up. Without a build (installed with
// --ignore-scripts), or with S3AL_FROM_SOURCE=1 while editing cli/, it runs the TypeScript sources
// through tsx instead, which is slower to start but always current.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.mjs', import.meta.url);
let main;
if (!process.env.S3AL_FROM_SOURCE && existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
