/**
 * The loader's invariants, driven directly (no S3) so the races are deterministic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLine, type ParsedLine } from '../../../shared/access-log/index.ts';
import { createConnectionProvider, Session, type Bind } from '../../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../../shared/snowflake/credentials.ts';
import { Loader, RowBuilder, type BufferedObject, type LoadTarget } from '../../../shared/snowflake/loader.ts';
import { startSnowflake } from '../../../local/harness/snowflake.ts';
import { count, LOG_BUCKET, query, linesOf, makeRow, startStack, type Stack } from './fixtures.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.stop());

async function session(): Promise<Session> {
  const provider = createConnectionProvider(credentialsProvider({ kind: 'env', credentials: stack.credentials }));
  return new Session(await provider.get());
}

function buffered(target: LoadTarget, n: number): BufferedObject {
  const b = new RowBuilder(target, 'parsed', new Date().toISOString());
  const rows: Bind[][] = [];
  const rejects: Bind[][] = [];
  for (const [i, raw] of linesOf(Array.from({ length: n }, (_, j) => makeRow(j))).entries()) {
    const r = b.add({ line: i + 1, raw, result: parseLine(raw) });
    (r.reject ? rejects : rows).push(r.bind);
  }
  return { target, counts: b.counts, rows, rejects };
}

describe('Loader', () => {
  it('two transactions claiming the same objects at once: exactly one wins each object', async () => {
    const [s1, s2] = await Promise.all([session(), session()]);
    const opts = { mode: 'parsed' as const, chunkRows: 2, loadedAt: new Date().toISOString() };
    const targets = ['a', 'b', 'c'].map((k) => ({ bucket: LOG_BUCKET, key: `loader/race/${k}`, force: false }));
    const [r1, r2] = await Promise.all([
      new Loader(s1, opts).loadBuffered(targets.map((t) => buffered(t, 5))),
      new Loader(s2, opts).loadBuffered([...targets].reverse().map((t) => buffered(t, 5))),
    ]);
    for (const t of targets) {
      const id = `${t.bucket}\u0000${t.key}`;
      expect([r1.get(id), r2.get(id)].sort()).toEqual(['duplicate', 'loaded']);
      expect(await count(stack, 's3_access_logs', t.key)).toBe(5);
      expect(await count(stack, 's3_access_logs_loads', t.key)).toBe(1);
    }
  });

  it('rows of a streamed object stay invisible until its transaction commits', async () => {
    const s = await session();
    const target = { bucket: LOG_BUCKET, key: 'loader/visibility/a', force: false };
    const raws = linesOf(Array.from({ length: 10 }, (_, j) => makeRow(j)));
    const seenDuring: number[] = [];
    async function* slowLines(): AsyncGenerator<ParsedLine> {
      for (const [i, raw] of raws.entries()) {
        // After a few chunks have been INSERTed, look from another session.
        if (i === 7)
          seenDuring.push(
            await count(stack, 's3_access_logs', target.key),
            await count(stack, 's3_access_logs_loads', target.key),
          );
        yield { line: i + 1, raw, result: parseLine(raw) };
      }
    }
    const loader = new Loader(s, { mode: 'parsed', chunkRows: 2, loadedAt: new Date().toISOString() });
    const before = s.roundTrips;
    const { result, counts } = await loader.loadStreamed(target, slowLines(), () => 1234);
    expect(result).toBe('loaded');
    expect(seenDuring).toEqual([0, 0]);
    expect(await count(stack, 's3_access_logs', target.key)).toBe(10);
    expect(counts).toMatchObject({ lines: 10, rows: 10, rejects: 0, bytes: 1234 });
    // BEGIN, 5 chunks, then the claim last: MERGE, SELECT claim, COMMIT.
    expect(s.roundTrips - before).toBe(1 + 5 + 3);
  });

  it('a failure mid-object rolls back the claim and every chunk already inserted', async () => {
    const s = await session();
    const target = { bucket: LOG_BUCKET, key: 'loader/rollback/a', force: false };
    stack.sf.faults.failStatement(/INSERT INTO s3_access_logs /i, { nth: 3 });
    const loader = new Loader(s, { mode: 'parsed', chunkRows: 2, loadedAt: new Date().toISOString() });
    try {
      await expect(loader.loadBuffered([buffered(target, 9)])).rejects.toThrow();
    } finally {
      stack.sf.faults.clear();
    }
    expect(await count(stack, 's3_access_logs', target.key)).toBe(0);
    expect(await count(stack, 's3_access_logs_loads', target.key)).toBe(0);
    // The retry wins the claim again and loads everything once.
    const again = await loader.loadBuffered([buffered(target, 9)]);
    expect([...again.values()]).toEqual(['loaded']);
    expect(await count(stack, 's3_access_logs', target.key)).toBe(9);
  });
});

describe('Loader: claim last', () => {
  it('a lost claim in a batch rolls back, the rest loads without it, and a new ETag is reported as overwritten', async () => {
    const s = await session();
    const opts = { mode: 'parsed' as const, chunkRows: 3, loadedAt: new Date().toISOString() };
    const t = (k: string, etag: string) => ({ bucket: LOG_BUCKET, key: `loader/lost/${k}`, etag, force: false });
    await new Loader(s, opts).loadBuffered([buffered(t('dup', 'e1'), 2), buffered(t('new-version', 'e1'), 2)]);
    // Bypass the advisory look-up: the claim itself must tell these apart.
    const results = await new Loader(s, opts).loadBuffered([
      buffered(t('dup', 'e1'), 5),
      buffered(t('fresh', 'e1'), 4),
      buffered(t('new-version', 'e2'), 6),
    ]);
    expect(Object.fromEntries([...results].map(([id, r]) => [id.split('/').at(-1), r]))).toEqual({
      dup: 'duplicate',
      fresh: 'loaded',
      'new-version': 'overwritten',
    });
    expect(await count(stack, 's3_access_logs', 'loader/lost/dup')).toBe(2);
    expect(await count(stack, 's3_access_logs', 'loader/lost/fresh')).toBe(4);
    expect(await count(stack, 's3_access_logs', 'loader/lost/new-version')).toBe(2);
    expect(await count(stack, 's3_access_logs_loads', 'loader/lost/fresh')).toBe(1);
  });

  it('a streamed object that loses its claim inserts nothing', async () => {
    const s = await session();
    const opts = { mode: 'parsed' as const, chunkRows: 2, loadedAt: new Date().toISOString() };
    const target = { bucket: LOG_BUCKET, key: 'loader/lost-stream/a', force: false };
    await new Loader(s, opts).loadBuffered([buffered(target, 3)]);
    async function* lines(): AsyncGenerator<ParsedLine> {
      for (const [i, raw] of linesOf(Array.from({ length: 7 }, (_, j) => makeRow(j))).entries())
        yield { line: i + 1, raw, result: parseLine(raw) };
    }
    const { result } = await new Loader(s, opts).loadStreamed(target, lines(), () => 1);
    expect(result).toBe('duplicate');
    expect(await count(stack, 's3_access_logs', target.key)).toBe(3);
  });
});

describe('Connection provider', () => {
  it("a refused login rejects with Snowflake's reason (snowflake-sdk 3 connectAsync would resolve)", async () => {
    const sf = await startSnowflake({ users: [{ name: 'local', password: 'local' }] });
    const provider = createConnectionProvider(
      credentialsProvider({
        kind: 'env',
        credentials: { ...stack.credentials, accessUrl: sf.url, password: 'wrong-password' },
      }),
    );
    try {
      await expect(provider.get()).rejects.toThrow(/Incorrect username or password/);
    } finally {
      await provider.close();
      await sf.stop();
    }
  });
});

describe('Loader claims', () => {
  it('claims a batch larger than one MERGE chunk in parts, in one transaction, each object once', async () => {
    const s = await session();
    const opts = { mode: 'parsed' as const, chunkRows: 2000, loadedAt: new Date().toISOString() };
    const objects = Array.from({ length: 1_100 }, (_, i) =>
      buffered({ bucket: LOG_BUCKET, key: `loader/many/${i}`, force: false }, 1),
    );
    const before = s.roundTrips;
    const results = await new Loader(s, opts).loadBuffered(objects);
    expect([...results.values()].filter((r) => r === 'loaded')).toHaveLength(1_100);
    // BEGIN, one INSERT chunk, 3 MERGEs (500 + 500 + 100), the claim SELECT, COMMIT.
    expect(s.roundTrips - before).toBe(7);
    const [row] = await query<{ n: unknown }>(
      stack,
      'SELECT COUNT(*) AS n FROM s3_access_logs_loads WHERE logkey LIKE ?',
      ['loader/many/%'],
    );
    expect(Number(row!.n)).toBe(1_100);
    // A second delivery of the same batch wins nothing.
    const again = await new Loader(s, opts).loadBuffered(objects);
    expect([...again.values()].every((r) => r === 'duplicate')).toBe(true);
  });
});
