/**
 * The CLI loads a command's SDKs only when that command runs: `--help` (which registers every
 * command) and `--version` must import none of them. Checked through an import hook rather than a
 * timing, which a shared machine would make flaky; bench:startup measures the time.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/s3-access-logs.mjs', import.meta.url));
const hook = fileURLToPath(new URL('../helpers/heavy-imports.mjs', import.meta.url));

async function heavyImports(...args: string[]): Promise<string[]> {
  const { stderr } = await run(process.execPath, ['--import', hook, bin, ...args]);
  return [...new Set([...stderr.matchAll(/^heavy-import (\S+)$/gm)].map((m) => m[1]!))];
}

describe.concurrent('lazy loading', () => {
  it('--help and --version import no SDK, DuckDB or fauxqs', async () => {
    expect(await heavyImports('--help')).toEqual([]);
    expect(await heavyImports('--version')).toEqual([]);
  });

  it("each command's own --help imports none either", async () => {
    for (const c of [
      'parse',
      'start',
      'query',
      'investigate',
      'backfill',
      'parity',
      'setup-snowflake',
      'snowflake-local',
      'cost',
      'detect',
    ]) {
      expect(await heavyImports(c, '--help'), c).toEqual([]);
    }
  });

  it('the hook does report a heavy import (so the tests above can fail)', async () => {
    const { stderr } = await run(process.execPath, [
      '--import',
      hook,
      '--input-type=module',
      '-e',
      "await import('snowflake-sdk')",
    ]);
    expect(stderr).toContain('heavy-import snowflake-sdk');
  });
});
