// Loaded with `node --import` by test/unit/cli-lazy-loading.test.ts: reports on stderr every heavy
// package (SDKs, DuckDB, fauxqs) a process imports, so the test can prove `--help` loads none.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
const HEAVY = /^(snowflake-sdk|@aws-sdk\\/[^/]+|@duckdb\\/[^/]+|fauxqs|@aws-lambda-powertools\\/[^/]+)/;
export async function resolve(specifier, context, next) {
  const m = HEAVY.exec(specifier);
  if (m) process.stderr.write('heavy-import ' + m[1] + '\\n');
  return next(specifier, context);
}`),
);
