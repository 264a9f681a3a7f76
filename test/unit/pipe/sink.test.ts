import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { TRANSACTION_TIME_RESERVE_MS } from '../../../shared/snowflake/insert-sink.ts';
import { PIPE_TIME_RESERVE_MS, PipeSink } from '../../../shared/snowflake/pipe/sink.ts';
import type { Sink } from '../../../shared/snowflake/sink.ts';

const s3 = new S3Client({ region: 'us-east-1' });
const target = { bucket: 'b', key: 'logs/k', force: false };
const empty = (async function* () {})();

describe('PipeSink (no S3 calls)', () => {
  it('starts no object with less than its reserve left, and no forced one with less than the insert reserve', () => {
    let left = PIPE_TIME_RESERVE_MS + 1;
    const sink = new PipeSink({
      s3,
      staging: { bucket: 's', prefix: 'pipe/' },
      mode: 'parsed',
      remainingMs: () => left,
    });
    expect(sink.cannotStart(target)).toBeUndefined();
    expect(sink.cannotStart({ ...target, force: true })).toMatch(/s left before the Lambda timeout$/);
    left = PIPE_TIME_RESERVE_MS - 1000;
    expect(sink.cannotStart(target)).toBe(`only ${Math.round(left / 1000)} s left before the Lambda timeout`);
    left = TRANSACTION_TIME_RESERVE_MS + 1;
    expect(sink.cannotStart({ ...target, force: true })).toBeUndefined();
  });

  it('fails a forced replay with one sentence when no insert sink is configured', async () => {
    const sink = new PipeSink({ s3, staging: { bucket: 's', prefix: 'pipe/' }, mode: 'parsed' });
    await expect(sink.loadStreamed({ ...target, force: true }, empty, () => 0)).rejects.toThrow(
      /^Forced replay of s3:\/\/b\/logs\/k cannot be loaded by the pipe method .*; configure Snowflake credentials \(SNOWFLAKE_SECRET_ARN\) so forced replays go through insert, or replay without force\.$/,
    );
  });

  it('hands forced replays to the insert sink, opened once, and reports its statements', async () => {
    const calls: string[] = [];
    const insert: Sink = {
      method: 'insert',
      buffers: true,
      streamConcurrency: 1,
      open: async () => void calls.push('open'),
      check: async () => new Map(),
      loadBuffered: async () => new Map(),
      loadStreamed: async (t) => {
        calls.push(`load ${t.key}`);
        await new Promise((r) => setTimeout(r, 5));
        calls.push(`done ${t.key}`);
        return { result: 'loaded', counts: { bytes: 0, lines: 0, rows: 0, rejects: 0 } };
      },
      cannotStart: () => 'insert says no',
      stats: () => ({ roundTrips: 7, transactions: 2, filesStaged: 0 }),
      close: async () => 'closed',
    };
    const sink = new PipeSink({ s3, staging: { bucket: 's', prefix: 'pipe/' }, mode: 'parsed', forced: () => insert });
    // Started together (the batch streams four objects at once), they run one after the other:
    // the insert sink's session holds one transaction at a time.
    await Promise.all(
      ['logs/k', 'logs/k2', 'logs/k3'].map((key) => sink.loadStreamed({ ...target, key, force: true }, empty, () => 0)),
    );
    expect(calls).toEqual([
      'open',
      'load logs/k',
      'done logs/k',
      'load logs/k2',
      'done logs/k2',
      'load logs/k3',
      'done logs/k3',
    ]);
    expect(sink.cannotStart({ ...target, force: true })).toBe('insert says no');
    expect(sink.stats()).toEqual({ roundTrips: 7, transactions: 2, filesStaged: 0 });
    expect(await sink.close()).toBe('closed');
  });
});
