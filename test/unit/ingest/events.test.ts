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
    ['[1,2]', 'the body is not a JSON object'],
    ['{"hello":"world"}', 'not an S3 event notification'],
    ['{"Records":"x"}', '"Records" is not an array'],
    [JSON.stringify({ Records: [{ ...record('k'), eventVersion: '1.0' }] }), 'expected 2.x'],
    [
      JSON.stringify({ Records: [{ eventVersion: '2.1', eventName: 'ObjectCreated:Put', s3: {} }] }),
      'no s3.bucket.name',
    ],
    [JSON.stringify({ Records: [record('k')], replay: { force: 'yes' } }), 'replay.force'],
    [JSON.stringify({ Type: 'Notification', Message: 'nope' }), 'SNS Message is not JSON'],
    [JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Deleted', detail: {} }), 'is not "Object Created"'],
  ])('reports %s as invalid', (body, reason) => {
    const parsed = parseMessageBody(body);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toContain(reason);
  });
});
