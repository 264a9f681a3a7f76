import { S3EventNotificationEventBridgeSchema, S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { SnsSqsNotificationSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import { describe, expect, it } from 'vitest';
import { decodeS3Key, encodeS3Key, parseMessageBody } from '../../../shared/s3/events.ts';
import { notificationBody } from '../../../local/harness/events.ts';

const record = (key: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  eventTime: '2024-05-01T10:00:00.000Z',
  eventName: 'ObjectCreated:Put',
  s3: {
    s3SchemaVersion: '1.0',
    bucket: { name: 'log-bucket', arn: 'arn:aws:s3:::log-bucket' },
    object: { key, size: 1234, eTag: '0123456789abcdef0123456789abcdef', sequencer: '0A1B2C3D4E5F678901' },
  },
  ...extra,
});

describe('decodeS3Key', () => {
  it.each([
    ['logs/2024-05-01-10-00-00-ABCDEF0123456789', 'logs/2024-05-01-10-00-00-ABCDEF0123456789'],
    ['a+b', 'a b'],
    ['a%2Bb', 'a+b'],
    ['a%2B+b%20c', 'a+ b c'],
    ['dt%3D2024-05-01/x', 'dt=2024-05-01/x'],
    ['caf%C3%A9', 'café'],
    ['100%', '100%'],
  ])('%s → %s', (enc, dec) => expect(decodeS3Key(enc)).toBe(dec));

  it('round-trips with encodeS3Key', () => {
    for (const k of ['a b+c/d', 'x%y', 'ü/é +%2B', 'logs/2024-01-01-00-00-00-0123'])
      expect(decodeS3Key(encodeS3Key(k))).toBe(k);
  });
});

describe('parseMessageBody', () => {
  it('reads an S3 notification with decoded keys and object metadata', () => {
    const parsed = parseMessageBody(JSON.stringify({ Records: [record('logs/a+b%2Bc')] }));
    expect(parsed).toEqual({
      kind: 'objects',
      ignored: 0,
      objects: [
        {
          bucket: 'log-bucket',
          key: 'logs/a b+c',
          size: 1234,
          etag: '0123456789abcdef0123456789abcdef',
          sequencer: '0A1B2C3D4E5F678901',
          eventTime: '2024-05-01T10:00:00.000Z',
          force: false,
        },
      ],
    });
  });

  it('reads several records and ignores non-creation events', () => {
    const parsed = parseMessageBody(
      JSON.stringify({ Records: [record('k1'), record('k2', { eventName: 'ObjectRemoved:Delete' }), record('k3')] }),
    );
    expect(parsed.kind).toBe('objects');
    if (parsed.kind !== 'objects') return;
    expect(parsed.objects.map((o) => o.key)).toEqual(['k1', 'k3']);
    expect(parsed.ignored).toBe(1);
  });

  it('unwraps an SNS notification', () => {
    const sns = {
      Type: 'Notification',
      MessageId: 'm',
      TopicArn: 'arn:aws:sns:us-east-1:1:t',
      Message: JSON.stringify({ Records: [record('x+y')] }),
    };
    const parsed = parseMessageBody(JSON.stringify(sns));
    expect(parsed.kind === 'objects' && parsed.objects[0]?.key).toBe('x y');
  });

  it('acknowledges s3:TestEvent, bare and inside SNS', () => {
    const test = {
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2024-05-01T10:00:00.000Z',
      Bucket: 'log-bucket',
    };
    expect(parseMessageBody(JSON.stringify(test))).toEqual({ kind: 'test' });
    expect(parseMessageBody(JSON.stringify({ Type: 'Notification', Message: JSON.stringify(test) }))).toEqual({
      kind: 'test',
    });
  });

  it('reads the full events AWS sends, as Powertools Parser models them (S3 → SQS, S3 → SNS → SQS, EventBridge)', () => {
    const full = {
      Records: [
        record('logs/2024-05-01-10-00-00-ABC%3D', {
          awsRegion: 'eu-west-1',
          userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
          requestParameters: { sourceIPAddress: '203.0.113.10' },
          responseElements: {
            'x-amz-request-id': 'D82B88E5F771F645',
            'x-amz-id-2': 'vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQ',
          },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'access-logs',
            bucket: {
              name: 'log-bucket',
              ownerIdentity: { principalId: 'A3I5XTEXAMAI3E' },
              arn: 'arn:aws:s3:::log-bucket',
            },
            object: { key: 'logs/2024-05-01-10-00-00-ABC%3D', size: 1234, eTag: 'e1', sequencer: '0A1B' },
          },
        }),
      ],
    };
    const sns = {
      Type: 'Notification',
      MessageId: 'd88d4479-6ec0-54fe-b63f-1cf9df4bb16e',
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:access-logs',
      Subject: 'Amazon S3 Notification',
      Message: JSON.stringify(full),
      Timestamp: '2024-05-01T10:00:02.287Z',
      SignatureVersion: '1',
      Signature: 'tEo2i6Lw6',
      SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0.pem',
      UnsubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe',
    };
    const eventBridge = {
      version: '0',
      id: 'f5f1e65c-dc3a-93ca-6c1e-b1647eac7963',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '123456789012',
      time: '2024-05-01T10:00:01Z',
      region: 'eu-west-1',
      resources: ['arn:aws:s3:::log-bucket'],
      detail: {
        version: '0',
        bucket: { name: 'log-bucket' },
        object: { key: 'logs/2024-05-01-10-00-00-ABC=', size: 1234, etag: 'e1', sequencer: '0A1B' },
        'request-id': '57H08PA84AB1JZW0',
        requester: '123456789012',
        'source-ip-address': '203.0.113.10',
        reason: 'PutObject',
      },
    };
    // The samples are what Powertools' full schemas accept, so what follows checks AWS's shapes.
    expect(S3Schema.safeParse(full).success).toBe(true);
    expect(SnsSqsNotificationSchema.safeParse(sns).success).toBe(true);
    expect(S3EventNotificationEventBridgeSchema.safeParse(eventBridge).success).toBe(true);
    for (const body of [full, sns, eventBridge]) {
      const parsed = parseMessageBody(JSON.stringify(body));
      expect(parsed.kind === 'objects' && parsed.objects).toMatchObject([
        { bucket: 'log-bucket', key: 'logs/2024-05-01-10-00-00-ABC=', size: 1234, etag: 'e1', sequencer: '0A1B' },
      ]);
    }
  });

  it('drops a malformed optional field, and ignores a non-creation record whatever it holds, as before the schemas', () => {
    const body = {
      Records: [
        { eventVersion: '2.1', eventName: 'ObjectRemoved:Delete' },
        { eventVersion: '2.1', s3: {} },
        record('k', {
          eventTime: 'yesterday',
          s3: { bucket: { name: 'log-bucket' }, object: { key: 'k', size: -1, eTag: null, sequencer: 7 } },
        }),
      ],
    };
    expect(parseMessageBody(JSON.stringify(body))).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'log-bucket', key: 'k', force: false }],
      ignored: 2,
    });
    const eb = {
      source: 'aws.s3',
      'detail-type': 'Object Created',
      time: 'now',
      detail: { bucket: { name: 'b' }, object: { key: 'k', size: '12', etag: 5 } },
    };
    expect(parseMessageBody(JSON.stringify(eb))).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'b', key: 'k', force: false }],
      ignored: 0,
    });
  });

  it('reads an EventBridge Object Created event, key as-is', () => {
    const eb = {
      version: '0',
      id: 'c9888434',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      time: '2024-05-01T10:00:01Z',
      detail: {
        version: '0',
        bucket: { name: 'log-bucket' },
        object: { key: 'logs/2024-05-01-10:00:00+x', size: 99, etag: 'abc', sequencer: '00AB' },
        reason: 'PutObject',
      },
    };
    expect(parseMessageBody(JSON.stringify(eb))).toEqual({
      kind: 'objects',
      ignored: 0,
      objects: [
        {
          bucket: 'log-bucket',
          key: 'logs/2024-05-01-10:00:00+x',
          size: 99,
          etag: 'abc',
          sequencer: '00AB',
          eventTime: '2024-05-01T10:00:01Z',
          force: false,
        },
      ],
    });
  });

  it('carries the replay flag of a backfill message', () => {
    const body = notificationBody([{ bucket: 'log-bucket', key: 'k 1', etag: '"e"' }], { force: true, id: 'bf-1' });
    const parsed = parseMessageBody(body);
    expect(parsed.kind === 'objects' && parsed.objects[0]).toMatchObject({
      key: 'k 1',
      etag: 'e',
      force: true,
      replayId: 'bf-1',
    });
    const noForce = parseMessageBody(notificationBody([{ bucket: 'b', key: 'k' }], { force: false, id: 'x' }));
    expect(noForce.kind === 'objects' && noForce.objects[0]?.force).toBe(false);
  });

  it.each([
    ['not json', 'the body is not JSON'],
    ['[1,2]', 'the body must be a JSON object'],
    ['{"hello":"world"}', 'not an S3 event notification'],
    ['{"Records":"x"}', 'Records must be an array'],
    [JSON.stringify({ Records: [{ ...record('k'), eventVersion: '1.0' }] }), 'expected 2.x'],
    [
      JSON.stringify({ Records: [{ eventVersion: '2.1', eventName: 'ObjectCreated:Put', s3: {} }] }),
      'Records[0].s3.bucket is missing; Records[0].s3.object is missing',
    ],
    [JSON.stringify({ Records: [record('')] }), 'Records[0].s3.object.key must not be empty'],
    [JSON.stringify({ Type: 'Notification', Message: '{"Records":"x"}' }), 'in the SNS Message, Records must be'],
    [JSON.stringify({ Records: [record('k')], replay: { force: 'yes' } }), 'replay.force'],
    [JSON.stringify({ Type: 'Notification', Message: 'nope' }), 'SNS Message is not JSON'],
    [
      JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Deleted', detail: {} }),
      'detail-type must be "Object Created", got "Object Deleted"',
    ],
  ])('reports %s as invalid', (body, reason) => {
    const parsed = parseMessageBody(body);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toContain(reason);
  });
});
