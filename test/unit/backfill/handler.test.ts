import type { Context } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';

const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
});

describe('backfill Lambda handler', () => {
  it('answers an invalid payload with the field and message instead of failing the invocation', async () => {
    Object.assign(process.env, {
      LOG_BUCKETS: 'log-bucket',
      LOG_PREFIXES: 'logs/',
      BACKFILL_QUEUE_URL: 'http://127.0.0.1:9/000000000000/ingest',
      SNOWFLAKE_ACCOUNT: 'local',
      SNOWFLAKE_USERNAME: 'local',
      SNOWFLAKE_PASSWORD: 'local',
      SNOWFLAKE_DATABASE: 'S3_ACCESS_LOGS',
      SNOWFLAKE_SCHEMA: 'PUBLIC',
      LOG_LEVEL: 'SILENT',
    });
    const { handler } = await import('../../../functions/backfill/handler.ts');
    const context = {
      functionName: 'bf',
      getRemainingTimeInMillis: () => 60_000,
      awsRequestId: 'r',
    } as unknown as Context;
    expect(await handler({ colour: 'red' } as never, context)).toEqual({
      field: 'colour',
      error: expect.stringMatching(/^colour: unknown field/),
    });
    expect(await handler({ from: '2026-11-05', to: '2026-11-01' }, context)).toMatchObject({ field: 'from' });
    expect(await handler({ bucket: 'someone-elses', from: '2026-11-01' }, context)).toMatchObject({ field: 'bucket' });
  });
});
