import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { BatchOutcomes, errorText } from '../../../functions/ingest/outcomes.ts';
import type { PlannedObject } from '../../../functions/ingest/plan.ts';

const logger = new Logger({ logLevel: 'SILENT' });
const object = (key: string, ...messageIds: string[]): PlannedObject => ({
  id: key,
  target: { bucket: 'b', key, force: false },
  messageIds,
});
const how = { mode: 'parsed', method: 'insert' } as const;
const counts = (rows: number, newestRequest?: string) => ({
  bytes: rows * 100,
  lines: rows + 1,
  rows,
  rejects: 1,
  ...(newestRequest ? { newestRequest } : {}),
});

describe('BatchOutcomes', () => {
  it('fails the messages of failed and undecided objects and of unreadable records, and acknowledges the rest', () => {
    const o = new BatchOutcomes(6, logger);
    const objects = [object('a', 'm0'), object('b', 'm1'), object('c', 'm2', 'm3'), object('d', 'm4')];
    o.planned({
      objects,
      notes: [
        { kind: 'unreadable', messageId: 'm5', reason: 'not JSON', body: '{' },
        { kind: 'not-allowed', messageId: 'm4', bucket: 'x', key: 'y' },
      ],
    });
    o.loaded(objects[0]!, counts(2), how);
    o.failed(objects[1]!, new Error('boom'), 'Reading the object');
    o.skipped(objects[3]!, 'missing', 'gone');
    expect(o.undecided(objects[2]!)).toBe(true);
    const { response, summary } = o.finish(objects, 0, () => 5);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m1', 'm2', 'm3', 'm5']);
    expect(summary).toMatchObject({
      messages: 6,
      failedMessages: 4,
      objectsLoaded: 1,
      objectsFailed: 1,
      durationMs: 5,
    });
    expect(summary.skipped).toEqual({ duplicate: 0, missing: 1, changed: 0, 'not-allowed': 1 });
  });

  it("sums loaded counts and measures the delivery lag from the newest request, and adds the sink's stats", () => {
    const o = new BatchOutcomes(2, logger);
    const [a, b] = [object('a', 'm0'), object('b', 'm1')];
    o.loaded(a, counts(2, '2026-01-01T00:00:00Z'), how);
    o.claimed(b, 'loaded', counts(3, '2026-01-01T00:00:10Z'), how);
    o.sinkStats({ roundTrips: 4, transactions: 1, filesStaged: 0 });
    o.sinkStats({ roundTrips: 1, transactions: 0, filesStaged: 2 });
    const { response, summary } = o.finish([a, b], Date.parse('2026-01-01T00:00:00Z'), () =>
      Date.parse('2026-01-01T00:01:00Z'),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(summary).toMatchObject({ rows: 5, rejects: 2, bytes: 500, roundTrips: 5, transactions: 1, filesStaged: 2 });
    expect(summary.deliveryLagSeconds).toBe(50);
    expect(summary.durationMs).toBe(60_000);
  });

  it('leaves the delivery lag undefined when nothing was loaded', () => {
    const o = new BatchOutcomes(0, logger);
    expect(o.finish([], 0, () => 1).summary.deliveryLagSeconds).toBeUndefined();
  });

  it('acknowledges a lost claim as a duplicate but fails an overwritten object, counting each', () => {
    const o = new BatchOutcomes(2, logger);
    const [a, b] = [object('a', 'm0'), object('b', 'm1')];
    o.claimed(a, 'duplicate', counts(0), how);
    o.claimed(b, 'overwritten', counts(0), how);
    const { response, summary } = o.finish([a, b], 0, () => 0);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(summary).toMatchObject({ claimsLost: 1, objectsOverwritten: 1, objectsFailed: 1, objectsLoaded: 0 });
    expect(summary.skipped.duplicate).toBe(1);
  });

  it('skips objects that could not be opened as missing or changed', () => {
    const o = new BatchOutcomes(2, logger);
    const [a, b] = [object('a', 'm0'), object('b', 'm1')];
    o.notOpened(a, { kind: 'missing' });
    o.notOpened(b, { kind: 'changed', message: 'PreconditionFailed' });
    const { response, summary } = o.finish([a, b], 0, () => 0);
    expect(response.batchItemFailures).toEqual([]);
    expect(summary.skipped).toMatchObject({ missing: 1, changed: 1 });
  });

  it('fails every object at once without touching other counts', () => {
    const o = new BatchOutcomes(2, logger);
    const objects = [object('a', 'm0'), object('b', 'm0', 'm1')];
    o.allFailed(objects);
    const { response, summary } = o.finish(objects, 0, () => 0);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }]);
    expect(summary).toMatchObject({ objectsFailed: 2, failedMessages: 2 });
  });
});

describe('errorText', () => {
  it("joins an error's name, code and message, and stringifies anything else", () => {
    expect(errorText(Object.assign(new Error('locked'), { code: 1205 }))).toBe('Error: 1205: locked');
    expect(errorText('plain')).toBe('plain');
  });
});
