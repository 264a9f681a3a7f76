/**
 * The README's snowflake-sdk snippet (section snowflake-local), run as written against a
 * snowflake-local on a free port: it connects, and the SDK stays quiet (no INFO lines, no
 * snowflake.log in the working directory).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSnowflakeLocal, type SnowflakeLocal } from 'snowflake-local';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const run = promisify(execFile);
let server: SnowflakeLocal;
const cwd = mkdtempSync(path.join(tmpdir(), 's3al-readme-'));
// Inside the checkout so that `import 'snowflake-sdk'` resolves from node_modules.
const script = path.join(ROOT, `.readme-snippet-${process.pid}.mjs`);

beforeAll(async () => {
  server = await startSnowflakeLocal({ port: 0 });
});
afterAll(async () => {
  await server?.stop();
  rmSync(script, { force: true });
  rmSync(cwd, { recursive: true, force: true });
});

it('connects quietly, as the README says', async () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## snowflake-local\n'));
  const snippet = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  expect(snippet).toContain('snowflake.configure(');
  const code = `${snippet!.replace('http://127.0.0.1:8085', server.url)}
const rows = await new Promise((resolve, reject) => conn.execute({ sqlText: 'SELECT 41 + 1 AS ANSWER', complete: (e, s, r) => (e ? reject(e) : resolve(r)) }));
process.stdout.write(JSON.stringify(rows));
await new Promise((resolve) => conn.destroy(resolve));
`;
  writeFileSync(script, code);
  const { stdout, stderr } = await run(process.execPath, [script], {
    cwd,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  expect(stdout).toBe('[{"ANSWER":42}]');
  expect(stderr).toBe('');
  expect(existsSync(path.join(cwd, 'snowflake.log'))).toBe(false);
});
