/**
 * One key announced twice in one batch, through processBatch's public behaviour: real S3 objects
 * in fauxqs, a sink that records what it is asked to load. Catches the older of two events
 * winning (its ETag no longer matches, so the object would be skipped as "changed": silent loss)
 * and a replay's `force` being dropped when a plain event for the same key shares the batch.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processBatch } from '../../../functions/ingest/process-batch.ts';
import { formatLine } from '../../../shared/access-log/index.ts';
import type { IngestConfig } from '../../../shared/config.ts';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';
import type { ObjectCreated } from '../../../shared/s3/events.ts';
import { notificationBody } from '../../../local/harness/events.ts';
import { ledgerId, type LoadTarget } from '../../../shared/snowflake/loader.ts';
import type { Precheck, Sink } from '../../../shared/snowflake/sink.ts';
import { makeRow } from './fixtures.ts';

const BUCKET = 'my-logs';
const config: IngestConfig = {
  logBuckets: [BUCKET],
  logPrefixes: ['logs/'],
  snowflake: { kind: 'env', credentials: { account: 'a', username: 'u', password: 'p', database: 'D', schema: 'S' } },
  loadMethod: 'pipe',
  insertChunkRows: 10,
  memoryBudgetBytes: 1 << 20,
  logLevel: 'SILENT',
  loadMode: 'parsed',
};

const line = (operation: string) => formatLine(makeRow(0, { bucket_name: BUCKET, operation }));

/** A sink that loads whatever it is handed and records each target; `check` answers `verdicts`. */
function recordingSink(verdicts: Map<string, Precheck> = new Map()) {
  const loads: Array<{ target: LoadTarget; lines: string[] }> = [];
  const sink: Sink = {
    method: 'pipe',
    buffers: false,
    streamConcurrency: 1,
    async open() {},
    async check() {
      return verdicts;
    },
    async loadBuffered() {
      throw new Error('not used: this sink streams');
    },
    async loadStreamed(target, lines, bytes) {
      const seen: string[] = [];
      for await (const l of lines) seen.push(l.raw);
      loads.push({ target, lines: seen });
      return { result: 'loaded', counts: { bytes: bytes(), lines: seen.length, rows: seen.length, rejects: 0 } };
    },
    cannotStart: () => undefined,
    stats: () => ({ roundTrips: 0, transactions: 0, filesStaged: 0 }),
    async close() {
      return undefined;
    },
  };
  return { sink, loads };
}

const event = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({ messageId: `m${i}`, body }) as SQSEvent['Records'][number]),
});

let aws: AwsLocal;
beforeAll(async () => {
  aws = await startAwsLocal();
  await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  await aws?.stop();
});

/** Writes `key` twice; returns both events (the first is stale: S3 holds the second's bytes). */
async function overwritten(key: string): Promise<{ older: ObjectCreated; newer: ObjectCreated; newerText: string }> {
  const put = async (text: string) =>
    (await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text }))).ETag!.replace(/"/g, '');
  const olderText = `${line('REST.GET.OBJECT')}\n`;
  const newerText = `${line('REST.PUT.OBJECT')}\n`;
  const olderEtag = await put(olderText);
  const newerEtag = await put(newerText);
  // Sequencers of different lengths compare as hex after left-padding: "FF" is older than "100".
  return {
    older: { bucket: BUCKET, key, size: olderText.length, etag: olderEtag, sequencer: 'FF' },
    newer: { bucket: BUCKET, key, size: newerText.length, etag: newerEtag, sequencer: '100' },
    newerText,
  };
}

describe('one key announced twice in a batch', () => {
  it.each([
    ['older event first', false],
    ['newer event first', true],
  ])('loads the newer of two events for one key (%s)', async (_name, newerFirst) => {
    const { older, newer, newerText } = await overwritten(`logs/twice-${newerFirst ? 'b' : 'a'}`);
    const { sink, loads } = recordingSink();
    const bodies = [notificationBody([older]), notificationBody([newer])];
    const { response, summary } = await processBatch(event(newerFirst ? bodies.reverse() : bodies), {
      config,
      s3: aws.s3,
      logger: new Logger({ logLevel: 'SILENT' }),
      sink: () => sink,
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(summary.skipped.changed).toBe(0);
    expect(summary.objectsLoaded).toBe(1);
    expect(loads).toHaveLength(1);
    expect(loads[0]!.target).toMatchObject({ etag: newer.etag, sequencer: '100' });
    expect(loads[0]!.lines).toEqual([newerText.trimEnd()]);
  });

  it.each([
    ['forced replay first', true],
    ['forced replay second', false],
  ])("keeps a replay's force when a plain event for the same key shares the batch (%s)", async (_name, forcedFirst) => {
    const key = `logs/forced-${forcedFirst ? 'a' : 'b'}`;
    const text = `${line('REST.GET.OBJECT')}\n`;
    const etag = (await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text }))).ETag!.replace(
      /"/g,
      '',
    );
    const object: ObjectCreated = { bucket: BUCKET, key, size: text.length, etag, sequencer: '0A' };
    // The ledger already holds the object: only a forced load may load it again.
    const { sink, loads } = recordingSink(new Map([[ledgerId(object), { kind: 'duplicate' }]]));
    const forced = notificationBody([object], { force: true, id: 'bf-1' });
    const plain = notificationBody([object]);
    const { response, summary } = await processBatch(event(forcedFirst ? [forced, plain] : [plain, forced]), {
      config,
      s3: aws.s3,
      logger: new Logger({ logLevel: 'SILENT' }),
      sink: () => sink,
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(summary.skipped.duplicate).toBe(0);
    expect(summary.objectsLoaded).toBe(1);
    expect(loads.map((l) => l.target.force)).toEqual([true]);
  });
});
