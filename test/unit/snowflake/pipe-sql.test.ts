// shared/snowflake/pipe-sql.ts: the one generated statement of load method `pipe` (the stage), the
// storage integration filled from the stack's outputs, and the order the objects are applied in.
import { describe, expect, it } from 'vitest';
import {
  pipeStatements,
  stageStatement,
  stagingUrl,
  storageIntegrationStatements,
} from '../../../shared/snowflake/pipe-sql.ts';

describe('stageStatement', () => {
  it('uses the storage integration when deployed and literal keys locally, the keys never on the first line', () => {
    expect(stageStatement({ url: 's3://bucket-1/pipe/', storageIntegration: 's3_access_logs_staging' })).toContain(
      '\n  STORAGE_INTEGRATION = s3_access_logs_staging\n',
    );
    const local = stageStatement({
      url: stagingUrl('local-access-logs-staging', 'pipe/'),
      credentials: { awsKeyId: 'AKIAEXAMPLE', awsSecretKey: 'wJalr/K7MDENG+bPxRfiCY=' },
    });
    expect(local.split('\n')[0]).toBe('CREATE STAGE IF NOT EXISTS s3_access_logs_stage');
    expect(local).toContain("\n  URL = 's3://local-access-logs-staging/pipe/'\n");
    expect(local).toContain(
      "\n  CREDENTIALS = (AWS_KEY_ID = 'AKIAEXAMPLE' AWS_SECRET_KEY = 'wJalr/K7MDENG+bPxRfiCY=')\n",
    );
  });

  it('refuses values that could change the statement, naming what to pass instead', () => {
    expect(() => stageStatement({ url: "s3://b/p/' COMMENT = 'x", storageIntegration: 'i' })).toThrow(
      /is not s3:\/\/<bucket>\/<prefix>\/.*StagingUrl/,
    );
    expect(() => stageStatement({ url: 's3://Bucket/p/', storageIntegration: 'i' })).toThrow(/lowercase bucket/);
    expect(() => stageStatement({ url: 's3://bucket/p/', storageIntegration: 'i; DROP TABLE t' })).toThrow(
      /not a plain Snowflake identifier/,
    );
    expect(() => stageStatement({ url: 's3://bucket/p/', credentials: { awsKeyId: "a'", awsSecretKey: 'b' } })).toThrow(
      /characters an AWS access key never has/,
    );
  });
});

describe('the pipe objects', () => {
  it('are the file format, the stage, then the four pipes; the integration is filled from the outputs', () => {
    const list = pipeStatements({ url: 's3://bucket-1/pipe/', storageIntegration: 's3_access_logs_staging' });
    expect(list.map((s) => /^CREATE (\w+(?: \w+)?) IF NOT EXISTS (\w+)/.exec(s.sql)?.slice(1).join(' '))).toEqual([
      'FILE FORMAT s3_access_logs_csv',
      'STAGE s3_access_logs_stage',
      'PIPE s3_access_logs_rows_pipe',
      'PIPE s3_access_logs_rejects_pipe',
      'PIPE s3_access_logs_raw_pipe',
      'PIPE s3_access_logs_loads_pipe',
    ]);
    const [integration, grant] = storageIntegrationStatements({
      url: 's3://bucket-1/pipe/',
      roleArn: 'arn:aws:iam::123456789012:role/r',
    });
    expect(integration!.sql).not.toMatch(/<[A-Z_]+>/);
    expect(integration!.sql).toContain("STORAGE_ALLOWED_LOCATIONS = ('s3://bucket-1/pipe/')");
    expect(grant!.sql).toBe('GRANT USAGE ON INTEGRATION s3_access_logs_staging TO ROLE S3_ACCESS_LOGS_ADMIN');
  });
});
