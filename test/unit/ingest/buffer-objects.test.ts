import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { bufferObjects } from '../../../functions/ingest/buffer-objects.ts';
import { lineCost, MemoryBudget } from '../../../functions/ingest/memory-budget.ts';
import { BatchOutcomes } from '../../../functions/ingest/outcomes.ts';
import { RowBuilder } from '../../../shared/snowflake/loader.ts';
import { fakeSource, planned } from './stage-fakes.ts';

const logger = new Logger({ logLevel: 'SILENT' });
const line = 'x'.repeat(100);
const cost = lineCost(line);

function deps(objects: Parameters<typeof fakeSource>[0], budgetBytes: number) {
  const fake = fakeSource(objects);
  const budget = new MemoryBudget(budgetBytes);
  const outcomes = new BatchOutcomes(1, logger);
  return {
    ...fake,
    budget,
    outcomes,
    deps: {
      source: fake.source,
      budget,
      outcomes,
      rowBuilder: (p: { target: { bucket: string; key: string } }) => new RowBuilder(p.target, 'parsed', 't'),
      concurrency: 1,
    },
  };
}

describe('bufferObjects', () => {
  it('buffers objects whose lines fit, as bind arrays with counts, and charges the budget per line', async () => {
    const d = deps({ a: { lines: [line, line] } }, 10 * cost);
    const { buffered, streamed } = await bufferObjects([planned('a')], d.deps);
    expect(streamed).toEqual([]);
    expect(buffered).toHaveLength(1);
    expect(buffered[0]!.loaded).toMatchObject({ target: { key: 'a' }, counts: { lines: 2, rejects: 2, bytes: 202 } });
    expect(buffered[0]!.loaded.rejects).toHaveLength(2);
    expect(d.budget.available).toBe(8 * cost);
  });

  it('streams, without opening it, an object whose stored size exceeds what is left', async () => {
    const d = deps({ a: { lines: [line] } }, cost);
    const { buffered, streamed } = await bufferObjects([planned('a', { size: cost + 1 })], d.deps);
    expect(buffered).toEqual([]);
    expect(streamed.map((p) => p.id)).toEqual(['a']);
    expect(d.opened).toEqual([]);
  });

  it('streams an object whose Content-Length exceeds what is left, stopping its body', async () => {
    const d = deps({ a: { lines: [line], contentLength: cost + 1 } }, cost);
    const { streamed } = await bufferObjects([planned('a')], d.deps);
    expect(streamed.map((p) => p.id)).toEqual(['a']);
    expect(d.destroyed).toEqual(['a']);
  });

  it('streams an object whose next line does not fit, giving back what it took, so a later object still fits', async () => {
    const d = deps({ big: { lines: [line, line, line] }, small: { lines: [line, line] } }, 2 * cost);
    const { buffered, streamed } = await bufferObjects([planned('big'), planned('small')], d.deps);
    expect(streamed.map((p) => p.id)).toEqual(['big']);
    expect(d.destroyed).toEqual(['big']);
    expect(buffered.map((b) => b.object.id)).toEqual(['small']);
    expect(d.budget.available).toBe(0);
  });

  it('records missing objects as skipped and read errors as failed (giving back their charge), in neither list', async () => {
    const d = deps({ bad: { lines: [line], error: new Error('socket reset') } }, 10 * cost);
    const { buffered, streamed } = await bufferObjects([planned('gone'), planned('bad')], d.deps);
    expect(buffered).toEqual([]);
    expect(streamed).toEqual([]);
    expect(d.budget.available).toBe(10 * cost);
    const { response, summary } = d.outcomes.finish([planned('gone'), planned('bad')], 0, () => 0);
    expect(summary).toMatchObject({ objectsFailed: 1, skipped: { missing: 1 } });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'msg-bad' }]);
  });
});
