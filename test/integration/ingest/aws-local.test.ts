import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';

describe('startAwsLocal', () => {
  let aws: AwsLocal;
  beforeAll(async () => {
    aws = await startAwsLocal();
  });
  afterAll(async () => aws?.stop());

  it('serves S3 (path-style) and SQS to the real SDK clients on an ephemeral port', async () => {
    expect(aws.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await aws.s3.send(new CreateBucketCommand({ Bucket: 'logs-bucket' }));
    await aws.s3.send(new PutObjectCommand({ Bucket: 'logs-bucket', Key: 'a b+c/key', Body: 'hello' }));
    const got = await aws.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'a b+c/key' }));
    expect(await got.Body!.transformToString()).toBe('hello');

    const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: 'q' }));
    await aws.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"x":1}' }));
    const r = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(r.Messages?.[0]?.Body).toBe('{"x":1}');
  });
});
