/**
 * Test helper: fauxqs (S3 + SQS) and snowflake-local with its Snowpipe engine on the same queue,
 * the project's tables and pipe objects applied, and a way to stage a file and send the S3 event
 * notification S3 would send for it.
 *
 *   const t = await startSnowpipe();
 *   await t.stage('pipe/rows/a.csv.gz', ['"x","y",,1']);  // PUT + notification
 *   await t.sf.server.snowpipe.idle();
 */
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { snowpipeOptions, startAwsLocal, type AwsLocal } from '../aws.ts';
import type { SnowflakeLocalOptions } from 'snowflake-local';
import { objectCreatedNotification } from '../../shared/s3/events.ts';
import { applyPipeSql, stagingUrl } from '../../shared/snowflake/pipe-sql.ts';
import { applySqlFiles, tableSqlFiles } from '../../shared/snowflake/sql-files.ts';
import { startSnowflake, type Connection, type TestSnowflake } from './snowflake.ts';

export const STAGING_BUCKET = 'local-access-logs-staging';
export const STAGING_PREFIX = 'pipe/';

export interface SnowpipeTest {
  aws: AwsLocal;
  sf: TestSnowflake;
  conn: Connection;
  queueUrl: string;
  queueArn: string;
  /** Writes `records` (one CSV record per entry, `\n` appended) gzipped to the key; notifies unless told not to. */
  stage(key: string, records: string[], opts?: { notify?: boolean }): Promise<void>;
  /** Sends the ObjectCreated notification for keys of the staging bucket (one message). */
  notify(...keys: string[]): Promise<void>;
  idle(): Promise<void>;
  /** Restarts snowflake-local on the same DuckDB file (requires dbPath). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSnowpipe(options: Pick<SnowflakeLocalOptions, 'dbPath'> = {}): Promise<SnowpipeTest> {
  const aws = await startAwsLocal();
  await aws.s3.send(new CreateBucketCommand({ Bucket: STAGING_BUCKET }));
  const queue = await aws.createQueue('snowpipe-local');
  const { url: queueUrl, arn: queueArn } = queue;
  const startSf = () => startSnowflake({ ...options, snowpipe: snowpipeOptions(aws, queue, 20) });
  const t = { aws, queueUrl, queueArn } as SnowpipeTest;
  t.sf = await startSf();
  t.conn = await t.sf.connect();
  await applySqlFiles(t.conn, tableSqlFiles());
  await applyPipeSql(t.conn, {
    url: stagingUrl(STAGING_BUCKET, STAGING_PREFIX),
    credentials: { awsKeyId: aws.credentials.accessKeyId, awsSecretKey: aws.credentials.secretAccessKey },
  });
  t.notify = async (...keys) => {
    const body = objectCreatedNotification(
      keys.map((key) => ({ bucket: STAGING_BUCKET, key })),
      { region: aws.region },
    );
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
  };
  t.stage = async (key, records, opts = {}) => {
    const body = gzipSync(Buffer.from(records.map((r) => `${r}\n`).join('')));
    await aws.s3.send(new PutObjectCommand({ Bucket: STAGING_BUCKET, Key: key, Body: body }));
    if (opts.notify !== false) await t.notify(key);
  };
  t.idle = () => t.sf.server.snowpipe.idle();
  t.restart = async () => {
    await t.sf.stop();
    t.sf = await startSf();
    t.conn = await t.sf.connect();
  };
  t.stop = async () => {
    await t.sf.stop();
    await aws.stop();
  };
  return t;
}

/** One record in the contract's CSV dialect: NULL → empty unquoted, strings quoted with "" doubled. */
export function csvRecord(values: Array<string | number | bigint | boolean | null>): string {
  return values
    .map((v) =>
      v === null
        ? ''
        : typeof v === 'string'
          ? `"${v.replaceAll('"', '""')}"`
          : typeof v === 'boolean'
            ? v
              ? 'TRUE'
              : 'FALSE'
            : String(v),
    )
    .join(',');
}
