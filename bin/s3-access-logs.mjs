#!/usr/bin/env node
// The CLI runs straight from TypeScript sources, so `npx s3-access-logs` works right after
// `npm ci` with no build step. tsx registers an ESM loader that transpiles on import.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
