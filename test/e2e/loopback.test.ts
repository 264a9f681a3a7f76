/**
 * `npm start` is reachable from this machine only, and its Snowflake takes only the stack's login.
 * The real command runs as a child process; every TCP socket it listens on is read from /proc
 * (test/helpers/listeners.ts), whichever library opened it, and each must be bound to loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSample } from '../../local/sample/index.ts';
import { readStackInfo, SNOWFLAKE_LOGIN, type StackInfo } from '../../local/stack-info.ts';
import { canListListeners, isLoopback, listeners, type Listener } from '../helpers/listeners.ts';
import { connect } from '../../local/harness/snowflake.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repoRoot, 'bin', 's3-access-logs.mjs');
const work = mkdtempSync(path.join(tmpdir(), 's3al-loopback-'));

let child: ChildProcess;
let info: StackInfo;
let output = '';

beforeAll(async () => {
  const logs = path.join(work, 'logs');
  mkdirSync(logs);
  const lines = generateSample().objects[0]!.body.toString().split('\n').slice(0, 3);
  writeFileSync(path.join(logs, 'one.log'), `${lines.join('\n')}\n`);
  const dataDir = path.join(work, 'data');
  child = spawn(
    process.execPath,
    [bin, 'start', '--aws-port', '0', '--snowflake-port', '0', '--data-dir', dataDir, '--logs', logs],
    {
      cwd: repoRoot,
      env: { ...process.env, DEBUG: '' },
    },
  );
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up in 60 s:\n${output}`)), 60_000);
    const check = () => {
      if (output.includes('The stack is running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  info = readStackInfo(dataDir)!;
}, 90_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

const portOf = (url: string) => Number(new URL(url).port);

describe('npm start on this machine only', () => {
  // /proc is Linux's: on other systems this check cannot see the sockets and does not run.
  it.runIf(canListListeners)('sees a listener on all interfaces (the check can fail)', async () => {
    const wide = createServer().listen(0, '0.0.0.0');
    await new Promise((r) => wide.once('listening', r));
    try {
      const port = (wide.address() as { port: number }).port;
      const found = listeners().find((l) => l.port === port);
      expect(found).toMatchObject({ address: '0.0.0.0' });
      expect(isLoopback(found!)).toBe(false);
    } finally {
      wide.close();
    }
  });

  it.runIf(canListListeners)(
    'every socket the stack listens on is bound to loopback, S3/SQS and Snowflake included',
    () => {
      const open: Listener[] = listeners(child.pid!);
      const ports = open.map((l) => l.port);
      expect(ports).toContain(portOf(info.awsEndpoint));
      expect(ports).toContain(portOf(info.snowflakeUrl));
      expect(
        open.filter((l) => !isLoopback(l)),
        JSON.stringify(open),
      ).toEqual([]);
    },
  );

  it("its Snowflake accepts the stack's login and refuses a wrong password or another user", async () => {
    const db = { account: SNOWFLAKE_LOGIN.account, database: SNOWFLAKE_LOGIN.database, schema: SNOWFLAKE_LOGIN.schema };
    const ok = await connect(info.snowflakeUrl, {
      ...db,
      username: SNOWFLAKE_LOGIN.username,
      password: SNOWFLAKE_LOGIN.password,
    });
    await new Promise<void>((r) => ok.destroy(() => r()));
    await expect(
      connect(info.snowflakeUrl, { ...db, username: SNOWFLAKE_LOGIN.username, password: 'not-the-password' }),
    ).rejects.toMatchObject({ code: '390100' });
    await expect(
      connect(info.snowflakeUrl, { ...db, username: 'someone-else', password: SNOWFLAKE_LOGIN.password }),
    ).rejects.toMatchObject({ code: '390100' });
  });
});
