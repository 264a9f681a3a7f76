/**
 * The Lambda entry as deployed: configuration from the environment, SDK clients from their default
 * chain pointed at fauxqs (AWS_ENDPOINT_URL_S3/_SQS) and at a stand-in of the Lambda Invoke
 * endpoint (AWS_ENDPOINT_URL_LAMBDA). When its time runs low it must invoke itself asynchronously
 * (InvocationType Event) with the continuation, and the continuation must finish the job.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BackfillSummary } from '../../../functions/backfill/core.ts';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';
import { HOUR, expectedSelection, makeFixtures, putAll, type Fixture } from './fixtures.ts';

let aws: AwsLocal;
let lambda: Server;
const invokes: Array<{ path: string; invocationType?: string; payload: Record<string, unknown> }> = [];
const savedEnv = { ...process.env };
let fixtures: Fixture[];

beforeAll(async () => {
  aws = await startAwsLocal();
  fixtures = makeFixtures('logs/', Date.UTC(2026, 10, 1), 2, 400, 11);
  await putAll(
    aws,
    'handler-logs',
    fixtures.map((f) => ({ key: f.key })),
  );
  const queueUrl = (await aws.sqs.send(new CreateQueueCommand({ QueueName: 'handler-ingest' }))).QueueUrl!;
  lambda = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      invokes.push({
        path: req.url ?? '',
        invocationType: req.headers['x-amz-invocation-type'] as string,
        payload: JSON.parse(body),
      });
      res.writeHead(202, { 'x-amzn-requestid': `next-${invokes.length}` });
      res.end();
    });
  });
  await new Promise<void>((r) => lambda.listen(0, '127.0.0.1', r));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: aws.endpoint,
    AWS_ENDPOINT_URL_SQS: aws.endpoint,
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(lambda.address() as AddressInfo).port}`,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: aws.region,
    LOG_BUCKETS: 'handler-logs',
    LOG_PREFIXES: 'logs/',
    BACKFILL_QUEUE_URL: queueUrl,
    BACKFILL_SAFETY_MARGIN_SECONDS: '30',
    // Never contacted: force skips the ledger lookup.
    SNOWFLAKE_ACCOUNT: 'local',
    SNOWFLAKE_USERNAME: 'local',
    SNOWFLAKE_PASSWORD: 'local',
    SNOWFLAKE_DATABASE: 'S3_ACCESS_LOGS',
    SNOWFLAKE_SCHEMA: 'PUBLIC',
    LOG_LEVEL: 'SILENT',
  });
}, 60_000);

afterAll(async () => {
  process.env = savedEnv;
  await new Promise((r) => lambda?.close(r));
  await aws?.stop();
});

function context(checksBeforeTimeout: number, requestId: string): Context {
  let calls = 0;
  return {
    functionName: 's3-access-logs-dev-backfill',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:s3-access-logs-dev-backfill',
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => (++calls > checksBeforeTimeout ? 10_000 : 600_000),
  } as unknown as Context;
}

describe('backfill Lambda handler', () => {
  it('continues itself with an async Invoke of its own ARN, and the continuation finishes the range', async () => {
    const { handler } = await import('../../../functions/backfill/handler.ts');
    // fauxqs names queues http://sqs.<region>.127.0.0.1:<port>/..., not a valid URL (a dotted host
    // ending in a number), so the SQS client of the default chain warns "Invalid URL" on every
    // call before using its endpoint. Harmless here, and real queue URLs parse; keep it quiet.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const from = '2026-11-01T06:00:00Z';
    const to = '2026-11-02T06:00:00Z';
    const first = (await handler({ from, to, force: true }, context(3, 'first'))) as BackfillSummary;
    expect(first.done).toBe(false);
    expect(first.continuedAs).toBe('next-1');
    expect(invokes).toHaveLength(1);
    expect(invokes[0]).toMatchObject({
      path: `/2015-03-31/functions/${encodeURIComponent('arn:aws:lambda:us-east-1:000000000000:function:s3-access-logs-dev-backfill')}/invocations`,
      invocationType: 'Event',
    });
    const payload = invokes[0]!.payload;
    expect(Object.keys(payload)).toEqual(['continuation']);

    const second = (await handler(payload, context(Infinity, 'second'))) as BackfillSummary;
    expect(second).toMatchObject({ done: true, invocation: 2, id: 'backfill-first' });
    const expected = expectedSelection(fixtures, Date.parse(from) - HOUR, Date.parse(to) + 6 * HOUR);
    expect(second.selected).toBe(expected.size);
    expect(second.enqueued).toBe(expected.size);
    const queued = (await aws.inspectQueue('handler-ingest'))!.messages.ready.map(
      (m) => JSON.parse(m.body).Records[0].s3.object.key as string,
    );
    expect(queued).toHaveLength(expected.size);
    expect(new Set(queued)).toEqual(expected);
    warn.mockRestore();
  });
});
