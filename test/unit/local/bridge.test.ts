import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';
import { startBridge } from '../../../local/bridge.ts';
import { parseMessageBody } from '../../../shared/s3/events.ts';

let aws: AwsLocal;
let queueUrl: string;
const bucket = 'bridge-logs';

beforeAll(async () => {
  aws = await startAwsLocal({ port: 0 });
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  queueUrl = (await aws.sqs.send(new CreateQueueCommand({ QueueName: 'bridge-q' }))).QueueUrl!;
});
afterAll(async () => {
  await aws?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: the raw S3 event JSON the bridge sent; the tests assert its shape.
type EventJson = Record<string, any>;

async function drain(): Promise<EventJson[]> {
  const out: EventJson[] = [];
  for (;;) {
    const r = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    if (!r.Messages?.length) return out;
    out.push(...r.Messages.map((m) => JSON.parse(m.Body!)));
  }
}

const put = (key: string, body: string) => aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

describe('notification bridge', () => {
  it('sends one standard S3 event per object created under the prefix, key encoded as S3 encodes it', async () => {
    const keys = [
      'logs/2026-11-16-00-10-00-0123456789ABCDEF',
      'logs/with space+plus/r\u00e9sum\u00e9 (1).log',
      'logs/a:b=c&d~e',
    ];
    for (const k of keys) await put(k, `line for ${k}\n`);
    await put('elsewhere/not-a-log', 'x');
    const bridge = startBridge({
      s3: aws.s3,
      sqs: aws.sqs,
      bucket,
      prefix: 'logs/',
      queueUrl,
      region: aws.region,
      intervalMs: 60_000,
    });
    try {
      expect(await bridge.kick()).toBe(3);
      const messages = await drain();
      expect(messages).toHaveLength(3);
      const byKey = new Map(messages.map((m) => [m.Records[0].s3.object.key as string, m]));
      // Form encoding, `/` kept: space → +, + → %2B, non-ASCII as UTF-8 escapes.
      expect([...byKey.keys()].sort()).toEqual(
        [
          'logs/2026-11-16-00-10-00-0123456789ABCDEF',
          'logs/a%3Ab%3Dc%26d%7Ee',
          'logs/with+space%2Bplus/r%C3%A9sum%C3%A9+%281%29.log',
        ].sort(),
      );
      for (const k of keys) {
        const head = await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k }));
        const msg = [...byKey.values()].find(
          (m) =>
            parseMessageBody(JSON.stringify(m)).kind === 'objects' &&
            (parseMessageBody(JSON.stringify(m)) as EventJson).objects[0].key === k,
        )!;
        expect(msg, k).toBeDefined();
        const rec = msg.Records[0];
        expect(rec).toMatchObject({
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          awsRegion: aws.region,
          s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` } },
        });
        expect(rec.s3.object.size).toBe(head.ContentLength);
        expect(rec.s3.object.eTag).toBe(head.ETag!.replaceAll('"', ''));
        expect(rec.s3.object.sequencer).toMatch(/^[0-9A-F]{18,}$/);
        expect(Number.isNaN(Date.parse(rec.eventTime))).toBe(false);
      }
      // Nothing new: no second notification. An overwrite is a new ObjectCreated event, as in S3.
      expect(await bridge.kick()).toBe(0);
      await put(keys[0]!, 'rewritten\n');
      expect(await bridge.kick()).toBe(1);
      const again = await drain();
      expect(again.map((m) => m.Records[0].s3.object.key)).toEqual([keys[0]]);
      expect(bridge.sent).toBe(4);
    } finally {
      await bridge.stop();
    }
  });

  it('finds new objects on its own interval', async () => {
    const bridge = startBridge({
      s3: aws.s3,
      sqs: aws.sqs,
      bucket,
      prefix: 'late/',
      queueUrl,
      region: aws.region,
      intervalMs: 50,
    });
    try {
      await put('late/obj-1', 'a\n');
      const end = Date.now() + 5000;
      while (bridge.sent < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(bridge.sent).toBe(1);
      expect((await drain()).map((m) => m.Records[0].s3.object.key)).toEqual(['late/obj-1']);
    } finally {
      await bridge.stop();
    }
  });
});
