import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connect, destroy, exec } from '../../../local/harness/snowflake.ts';

const bin = fileURLToPath(new URL('../../../bin/s3-access-logs.mjs', import.meta.url));

function run(...args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(process.execPath, [bin, 'snowflake-local', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return { child, out: () => out, err: () => err };
}

async function waitFor(get: () => string, re: RegExp, ms = 45_000): Promise<RegExpMatchArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = get().match(re);
    if (m) return m;
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}; got: ${get()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('s3-access-logs snowflake-local', () => {
  it('serves snowflake-sdk on 127.0.0.1, refuses a port in use with one message, and stops on Ctrl-C', async () => {
    const server = run('--port', '0', '--memory');
    try {
      const [, url, port] = await waitFor(server.out, /listening on (http:\/\/127\.0\.0\.1:(\d+))/);
      expect(server.out()).toContain("account: 'local', username: 'local'");
      const conn = await connect(url!);
      expect(await exec(conn, 'select current_database() as db')).toEqual([{ DB: 'S3_ACCESS_LOGS' }]);
      await destroy(conn);

      const second = run('--port', port!, '--memory');
      const [code] = (await once(second.child, 'exit')) as [number];
      expect(code).toBe(1);
      expect(second.err()).toContain(`port ${port} on 127.0.0.1 is already in use`);

      server.child.kill('SIGINT');
      const [exitCode] = (await once(server.child, 'exit')) as [number];
      expect(exitCode).toBe(0);
      expect(server.out()).toContain('stopping snowflake-local');
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });
});
