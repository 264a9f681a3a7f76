import { describe, expect, it } from 'vitest';
import { buildEventMessage, chunk, dedupKey, sequencerFor } from '../../../functions/backfill/messages.ts';
import { snowflakeLedger } from '../../../functions/backfill/ledger.ts';
import {
  decodeState,
  emptyTotals,
  encodeState,
  type ContinuationState,
} from '../../../functions/backfill/continuation.ts';
import { parseMessageBody } from '../../../shared/s3/events.ts';

const object = {
  key: 'logs/123456789012/us-east-1/my bucket+x/2026/11/01/2026-11-01-10-00-00-ABCDEF',
  size: 1234,
  etag: 'd41d8cd98f00b204e9800998ecf8427e',
  lastModified: new Date('2026-11-01T10:00:03.250Z'),
};

describe('replay event message', () => {
  const msg = buildEventMessage('log-bucket', object, { region: 'eu-west-1', replay: { force: true, id: 'bf-1' } });

  it('has the shape of an S3 ObjectCreated:Put notification plus the replay marker', () => {
    // biome-ignore lint/suspicious/noExplicitAny: asserts fields the S3 event type does not declare (eventVersion, sequencer).
    const record = msg.Records[0] as Record<string, any>;
    expect(record.eventVersion).toBe('2.1');
    expect(record.eventSource).toBe('aws:s3');
    expect(record.eventName).toBe('ObjectCreated:Put');
    expect(record.awsRegion).toBe('eu-west-1');
    expect(record.s3.bucket).toMatchObject({ name: 'log-bucket', arn: 'arn:aws:s3:::log-bucket' });
    expect(record.s3.object).toEqual({
      key: 'logs/123456789012/us-east-1/my+bucket%2Bx/2026/11/01/2026-11-01-10-00-00-ABCDEF',
      size: 1234,
      eTag: object.etag,
      sequencer: sequencerFor(object.lastModified),
    });
    expect(msg.replay).toEqual({ force: true, id: 'bf-1' });
  });

  it('is read back by the ingest event parser as the same object, with force', () => {
    const parsed = parseMessageBody(JSON.stringify(msg));
    expect(parsed).toEqual({
      kind: 'objects',
      ignored: 0,
      objects: [
        {
          bucket: 'log-bucket',
          key: object.key,
          size: 1234,
          etag: object.etag,
          sequencer: sequencerFor(object.lastModified),
          eventTime: '2026-11-01T10:00:03.250Z',
          force: true,
          replayId: 'bf-1',
        },
      ],
    });
  });

  it('orders sequencers like LastModified', () => {
    expect(sequencerFor(new Date(1000)) < sequencerFor(new Date(2000))).toBe(true);
    expect(sequencerFor(new Date(0))).toHaveLength(16);
  });

  it('has a deterministic dedup key per backfill, object version and force', () => {
    const a = dedupKey('bf-1', 'b', object, false);
    expect(dedupKey('bf-1', 'b', { ...object }, false)).toBe(a);
    expect(dedupKey('bf-1', 'b', object, true)).not.toBe(a);
    expect(dedupKey('bf-2', 'b', object, false)).not.toBe(a);
    expect(dedupKey('bf-1', 'b', { ...object, etag: 'other' }, false)).not.toBe(a);
  });

  it('chunks into SendMessageBatch groups of 10', () => {
    expect(chunk([...Array(25).keys()], 10).map((c) => c.length)).toEqual([10, 10, 5]);
  });
});

describe('ledger lookup', () => {
  it('binds the bucket and every key and reads LOGKEY back', async () => {
    const calls: Array<{ sql: string; binds: string[] }> = [];
    const ledger = snowflakeLedger(async (sql, binds) => {
      calls.push({ sql, binds });
      return binds
        .slice(1)
        .filter((k) => k.endsWith('1'))
        .map((k) => ({ LOGKEY: k }));
    });
    const keys = Array.from({ length: 1500 }, (_, i) => `k'${i}`);
    const loaded = await ledger.loadedKeys("b'; drop", keys);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.sql).not.toContain("k'");
    expect(calls[0]!.binds).toHaveLength(1001);
    expect(calls[0]!.binds[0]).toBe("b'; drop");
    expect(loaded.size).toBe(150);
  });
});

describe('continuation state', () => {
  const state: ContinuationState = {
    v: 1,
    id: 'backfill-x',
    invocation: 2,
    startedAt: '2026-11-01T00:00:00.000Z',
    request: { bucket: 'b', prefix: 'logs/', dryRun: false, force: false },
    prefixes: ['logs/2026-11-01-'],
    partitionRoots: 0,
    prefixIndex: 0,
    s3Token: 'abc',
    position: 10,
    totals: emptyTotals(),
  };
  it('round-trips through JSON', () => {
    expect(decodeState(JSON.parse(JSON.stringify(encodeState(state))))).toEqual(state);
  });
  it('rejects a tampered or foreign continuation, naming the field', () => {
    expect(() => decodeState({ ...state, v: 2 })).toThrow(/^continuation: /);
    expect(() => decodeState({ ...state, position: -1 })).toThrow(/^continuation: has a bad cursor/);
    expect(() => decodeState('x')).toThrow(/^continuation: must be an object/);
  });
  it('refuses a state too big for an async invoke payload', () => {
    expect(() => encodeState({ ...state, prefixes: Array(20_000).fill('x'.repeat(20)) })).toThrow(/split the range/);
  });
});
