/**
 * `s3-access-logs backfill` without --local: the CLI's real @aws-sdk/client-lambda talks HTTP to a
 * stand-in of the Lambda Invoke endpoint (AWS_ENDPOINT_URL_LAMBDA), which records the request and
 * answers as Lambda does: the function's JSON result, or X-Amz-Function-Error on a failure.
 * One case spawns the whole CLI; the error cases call its invoke step in-process (each spawn costs
 * seconds on a loaded machine).
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeDeployed } from '../../../cli/backfill.ts';
import { CliError } from '../../../cli/errors.ts';

const run = promisify(execFile);
const bin = new URL('../../../bin/s3-access-logs.mjs', import.meta.url).pathname;

let server: Server;
let endpoint: string;
const requests: Array<{ path: string; invocationType?: string; payload: unknown }> = [];
let answer: { status: number; body: unknown; functionError?: string } = { status: 200, body: {} };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({
        path: req.url ?? '',
        invocationType: req.headers['x-amz-invocation-type'] as string | undefined,
        payload: JSON.parse(body || 'null'),
      });
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-amz-executed-version': '$LATEST',
      };
      if (answer.functionError) headers['x-amz-function-error'] = answer.functionError;
      res.writeHead(answer.status, headers);
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'backfill', ...args], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL_LAMBDA: endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('backfill CLI invoking the deployed function', () => {
  it('sends the payload synchronously to --function and prints the summary', async () => {
    answer = {
      status: 200,
      body: {
        id: 'backfill-abc',
        bucket: 'log-bucket',
        prefix: 'logs/',
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-11-03T00:00:00.000Z',
        dryRun: false,
        force: false,
        invocation: 1,
        listed: 900,
        selected: 850,
        alreadyLoaded: 800,
        enqueued: 50,
        ignored: 0,
        listCalls: 7,
        prefixesPlanned: 3,
        partitionRoots: 0,
        padding: {
          beforeMinutes: 60,
          afterMinutes: 360,
          keyTimeFrom: '2026-10-31T23:00:00.000Z',
          keyTimeTo: '2026-11-03T06:00:00.000Z',
          note: '',
        },
        truncated: false,
        done: false,
        continuedAs: 'req-2',
        durationMs: 1,
      },
    };
    requests.length = 0;
    const r = await cli(
      '--function',
      'my-backfill',
      '--region',
      'eu-west-1',
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-02',
      '--max-objects',
      '1000',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(requests).toEqual([
      {
        path: '/2015-03-31/functions/my-backfill/invocations',
        invocationType: 'RequestResponse',
        payload: { from: '2026-11-01', to: '2026-11-02', maxObjects: 1000 },
      },
    ]);
    expect(r.stdout).toContain('selected 850: 800 already loaded, 50 enqueued');
    expect(r.stdout).toContain('continues in the background (invocation req-2)');
  }, 120_000);

  async function invokeError(payload: Record<string, unknown>): Promise<CliError> {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_LAMBDA: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    try {
      await invokeDeployed({ function: 'f', region: 'eu-west-1', dataDir: '.local' }, payload);
    } catch (err) {
      expect(err).toBeInstanceOf(CliError);
      return err as CliError;
    } finally {
      process.env = saved;
    }
    throw new Error('expected a CliError');
  }

  it("turns the function's payload error into a usage error naming the flag", async () => {
    answer = { status: 200, body: { field: 'dryRun', error: 'dryRun: must be true or false, got "x"' } };
    const err = await invokeError({ dryRun: true });
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('--dry-run: must be true or false, got "x"');
    answer = {
      status: 200,
      body: {
        field: 'to',
        error:
          'to: the range is 40.0 days, over the maximum of 31 (BACKFILL_MAX_RANGE_DAYS); set force to run it anyway',
      },
    };
    // The limit is the function's setting: the message blames the range, not --to.
    expect((await invokeError({})).message).toBe(
      'the range is 40.0 days, over the maximum of 31 (BACKFILL_MAX_RANGE_DAYS); pass --force to run it anyway',
    );
  });

  it('reports a function failure with its message (exit 1)', async () => {
    answer = {
      status: 200,
      functionError: 'Unhandled',
      body: { errorType: 'Error', errorMessage: 'Snowflake login failed' },
    };
    const err = await invokeError({ redriveDlq: true });
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe('f failed: Snowflake login failed');
    expect(requests.at(-1)).toMatchObject({
      path: '/2015-03-31/functions/f/invocations',
      payload: { redriveDlq: true },
    });
  });
});
