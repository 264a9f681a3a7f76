import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import type { Buffered } from '../../../functions/ingest/buffer-objects.ts';
import { commitBuffered, precheck, streamObjects } from '../../../functions/ingest/commit.ts';
import { BatchOutcomes } from '../../../functions/ingest/outcomes.ts';
import type { PlannedObject } from '../../../functions/ingest/plan.ts';
import type { ClaimResult, Precheck, Sink } from '../../../shared/snowflake/sink.ts';
import { fakeSource, planned } from './stage-fakes.ts';

const logger = new Logger({ logLevel: 'SILENT' });

/** A sink whose every method throws unless the test gives it; records the keys of each load. */
function sink(overrides: Partial<Sink> = {}): Sink & { loads: string[][] } {
  const loads: string[][] = [];
  return {
    loads,
    method: 'insert',
    buffers: true,
    streamConcurrency: 1,
    async open() {},
    async check() {
      throw new Error('no look-up');
    },
    async loadBuffered(objects) {
      loads.push(objects.map((o) => o.target.key));
      return new Map(objects.map((o) => [o.target.key, 'loaded' as ClaimResult]));
    },
    async loadStreamed(target, lines, bytes) {
      let n = 0;
      for await (const _ of lines) n++;
      loads.push([target.key]);
      return { result: 'loaded', counts: { bytes: bytes(), lines: n, rows: n, rejects: 0 } };
    },
    cannotStart: () => undefined,
    stats: () => ({ roundTrips: 0, transactions: 0, filesStaged: 0 }),
    async close() {
      return undefined;
    },
    ...overrides,
  };
}

const buffered = (p: PlannedObject): Buffered => ({
  object: p,
  loaded: { target: p.target, counts: { bytes: 1, lines: 1, rows: 1, rejects: 0 }, rows: [], rejects: [] },
});

function run(s: Sink, objects: PlannedObject[]) {
  const outcomes = new BatchOutcomes(objects.length, logger);
  return {
    deps: { sink: s, outcomes, logger, mode: 'parsed' as const },
    done: () => outcomes.finish(objects, 0, () => 0),
  };
}

const failures = (r: { response: { batchItemFailures: Array<{ itemIdentifier: string }> } }) =>
  r.response.batchItemFailures.map((f) => f.itemIdentifier);

describe('precheck', () => {
  it("skips the sink's duplicates, fails what it reports failed (counting overwritten), and never asks about forced replays", async () => {
    const asked: string[] = [];
    const verdicts = new Map<string, Precheck>([
      ['dup', { kind: 'duplicate' }],
      ['over', { kind: 'failed', reason: 'overwritten', error: new Error('other bytes') }],
      ['err', { kind: 'failed', reason: 'error', error: new Error('no') }],
    ]);
    const s = sink({
      async check(targets) {
        asked.push(...targets.map((t) => t.key));
        return verdicts;
      },
    });
    const objects = [planned('dup'), planned('over'), planned('err'), planned('new'), planned('forced')];
    objects[4]!.target.force = true;
    const { deps, done } = run(s, objects);
    await precheck(objects, deps);
    expect(asked).toEqual(['dup', 'over', 'err', 'new']);
    expect(objects.map((p) => deps.outcomes.undecided(p))).toEqual([false, false, false, true, true]);
    const r = done();
    expect(r.summary).toMatchObject({ objectsOverwritten: 1, objectsFailed: 2, skipped: { duplicate: 1 } });
  });

  it('decides nothing when the look-up fails', async () => {
    const objects = [planned('a')];
    const { deps } = run(sink(), objects);
    await precheck(objects, deps);
    expect(deps.outcomes.undecided(objects[0]!)).toBe(true);
  });
});

describe('commitBuffered', () => {
  it('loads every buffered object in one call; an object missing from the answer lost its claim', async () => {
    const s = sink({
      async loadBuffered() {
        s.loads.push(['a', 'b']);
        return new Map([['a', 'loaded']]);
      },
    });
    const objects = [planned('a'), planned('b')];
    const { deps, done } = run(s, objects);
    await commitBuffered(objects.map(buffered), deps);
    expect(s.loads).toEqual([['a', 'b']]);
    expect(done().summary).toMatchObject({ objectsLoaded: 1, claimsLost: 1 });
  });

  it('after a failed batch load, retries one by one, so a poison object fails only its own message', async () => {
    const s = sink();
    const load = s.loadBuffered.bind(s);
    s.loadBuffered = async (objects) => {
      if (objects.some((o) => o.target.key === 'poison')) {
        s.loads.push(objects.map((o) => o.target.key));
        throw new Error('numeric overflow');
      }
      return load(objects);
    };
    const objects = [planned('a'), planned('poison'), planned('b')];
    const { deps, done } = run(s, objects);
    await commitBuffered(objects.map(buffered), deps);
    expect(s.loads).toEqual([['a', 'poison', 'b'], ['a'], ['poison'], ['b']]);
    const r = done();
    expect(failures(r)).toEqual(['msg-poison']);
    expect(r.summary.objectsLoaded).toBe(2);
  });

  it('does not retry a single object, nor start a retry the sink refuses', async () => {
    const s = sink({
      async loadBuffered(objects) {
        s.loads.push(objects.map((o) => o.target.key));
        throw new Error('lost connection');
      },
      cannotStart: (t) => (t.key === 'late' ? 'The invocation is about to time out.' : undefined),
    });
    const one = run(s, [planned('solo')]);
    await commitBuffered([buffered(planned('solo'))], one.deps);
    expect(s.loads).toEqual([['solo']]);
    expect(failures(one.done())).toEqual(['msg-solo']);

    s.loads.length = 0;
    const objects = [planned('a'), planned('late')];
    const two = run(s, objects);
    await commitBuffered(objects.map(buffered), two.deps);
    expect(s.loads).toEqual([['a', 'late'], ['a']]);
    expect(failures(two.done())).toEqual(['msg-a', 'msg-late']);
  });
});

describe('streamObjects', () => {
  it('streams each object through the sink and stops its body; missing objects are skipped, refused ones failed', async () => {
    const s = sink({ cannotStart: (t) => (t.key === 'late' ? 'The invocation is about to time out.' : undefined) });
    const { source, opened, destroyed } = fakeSource({ a: { lines: ['one', 'two'] } });
    const objects = [planned('a'), planned('gone'), planned('late')];
    const { deps, done } = run(s, objects);
    await streamObjects(objects, source, deps);
    expect(s.loads).toEqual([['a']]);
    expect(opened).toEqual(['a', 'gone']);
    expect(destroyed).toEqual(['a']);
    const r = done();
    expect(failures(r)).toEqual(['msg-late']);
    expect(r.summary).toMatchObject({ objectsLoaded: 1, rows: 2, bytes: 8, skipped: { missing: 1 } });
  });

  it('fails an object whose read fails mid-stream, and still stops its body', async () => {
    const { source, destroyed } = fakeSource({ a: { lines: ['one'], error: new Error('socket reset') } });
    const objects = [planned('a')];
    const { deps, done } = run(sink(), objects);
    await streamObjects(objects, source, deps);
    expect(destroyed).toEqual(['a']);
    expect(failures(done())).toEqual(['msg-a']);
  });
});
