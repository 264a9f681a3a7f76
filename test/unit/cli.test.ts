import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { WAREHOUSE_FILE } from '../../local/stack-info.ts';

const run = promisify(execFile);
const bin = new URL('../../bin/s3-access-logs.mjs', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
// A home without ~/.aws and no AWS variables: the SDK finds no region and no credentials.
const home = mkdtempSync(path.join(tmpdir(), 's3al-cli-home-'));
const bareEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.concurrent('s3-access-logs CLI', () => {
  it('prints help and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: s3-access-logs');
    for (const c of [
      'parse',
      'start',
      'query',
      'investigate',
      'backfill',
      'parity',
      'setup-snowflake',
      'snowflake-local',
    ])
      expect(r.stdout).toContain(`  ${c} `);
  });

  it('prints its version (-V too)', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    }
  });

  it('runs from the TypeScript sources through tsx when asked (or when dist/cli is missing)', async () => {
    const r = await cli(['--version'], { ...process.env, S3AL_FROM_SOURCE: '1' });
    expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('exits 2 on an unknown command with a pointer to the help, not the whole usage', async () => {
    const r = await cli(['no-such-command']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: unknown command 'no-such-command'\nRun "s3-access-logs --help" for usage.\n`);
  });

  it('backfill: checks the range before looking for a local stack', async () => {
    const r = await cli([
      'backfill',
      '--local',
      '--from',
      '2026-11-05',
      '--to',
      '2026-11-01',
      '--data-dir',
      path.join(home, 'none'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      's3-access-logs: --from 2026-11-05 is not before --to 2026-11-01; swap them or widen the range.\nRun "s3-access-logs backfill --help" for usage.\n',
    );
  });

  it('backfill: without a region says how to give one, or to use --local', async () => {
    const r = await cli(['backfill', '--from', '2026-11-01', '--to', '2026-11-02'], { ...bareEnv, HOME: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      's3-access-logs: no AWS region for the deployed function: pass --region (e.g. --region us-east-1) or set AWS_REGION, or use --local for the stack "npm start" runs.\n',
    );
  });

  it('query --secret NAME: without a region says how to give one, or to use --local', async () => {
    const r = await cli(['query', 'SELECT 1', '--secret', 'my-secret'], {
      ...bareEnv,
      HOME: home,
      SNOWFLAKE_ACCOUNT: '',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      's3-access-logs: could not connect to Snowflake: no AWS region: pass the secret\'s full ARN (it names the region) or set AWS_REGION, or use --local for the stack "npm start" runs.\n',
    );
  });

  it('snowflake-local defaults to the warehouse file start uses', async () => {
    const r = await cli(['snowflake-local', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(`(default: "${path.join('.local', WAREHOUSE_FILE)}")`);
  });
});
