import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../../bin/s3-access-logs.mjs', import.meta.url).pathname;

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('s3-access-logs CLI', () => {
  it('prints help and exits 0', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: s3-access-logs');
  });

  it('exits 2 with usage on an unknown command', async () => {
    const r = await cli('no-such-command');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: (unknown command|too many arguments)/i);
  });
});
