import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, execStatement, startSnowflake, type Connection, type TestSnowflake } from '../src/testing.ts';

let sf: TestSnowflake;
let a: Connection;
let b: Connection;

beforeAll(async () => {
  sf = await startSnowflake({ lockTimeoutMs: 5000 });
  [a, b] = await Promise.all([sf.connect(), sf.connect()]);
  await exec(
    a,
    'create table ledger (logbucket varchar not null, logkey varchar not null, etag varchar, rows number, mode varchar, loadedat timestamp_tz)',
  );
  await exec(a, 'create table items (logbucket varchar, logkey varchar, n number, writer varchar)');
});
afterAll(async () => {
  await sf?.stop();
});

const count = async (c: Connection, sql: string, binds?: unknown[]) =>
  Number(Object.values((await exec(c, sql, binds))[0]!)[0]);

/** Resolves once `n` statements wait for a table lock (an event, not a guess at how long it takes). */
async function lockWaiters(n: number): Promise<void> {
  while (sf.server.lockWaiters() < n) await new Promise((r) => setImmediate(r));
}

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((r) => (fire = r));
  return { promise, fire };
}

/**
 * The ingest loader's shape: claim the ledger key, write rows, commit; skip when the claim fails.
 * `afterClaim` runs while the claim is held (the transaction still open).
 */
async function load(
  c: Connection,
  key: string,
  writer: string,
  rows: number,
  afterClaim?: () => Promise<void>,
): Promise<boolean> {
  await exec(c, 'begin');
  const claim = await exec<Record<string, number>>(
    c,
    `merge into ledger l using (select ? as logbucket, ? as logkey, ? as etag) s
       on l.logbucket = s.logbucket and l.logkey = s.logkey
     when not matched then insert (logbucket, logkey, etag, rows, mode, loadedat)
       values (s.logbucket, s.logkey, s.etag, ${rows}, 'parsed', current_timestamp())`,
    ['bucket', key, writer],
  );
  if (claim[0]!['number of rows inserted'] !== 1) {
    await exec(c, 'rollback');
    return false;
  }
  if (afterClaim) await afterClaim();
  await exec(
    c,
    'insert into items (logbucket, logkey, n, writer) values (?, ?, ?, ?)',
    Array.from({ length: rows }, (_, i) => ['bucket', key, i, writer]),
  );
  await exec(c, 'commit');
  return true;
}

describe('snowflake-local transactions', () => {
  it('keeps uncommitted writes private and publishes them at COMMIT', async () => {
    await exec(a, 'begin');
    await exec(a, "insert into items values ('t1', 'k', 1, 'a')");
    expect(await count(a, "select count(*) from items where logbucket = 't1'")).toBe(1);
    expect(await count(b, "select count(*) from items where logbucket = 't1'")).toBe(0);
    await exec(a, 'commit');
    expect(await count(b, "select count(*) from items where logbucket = 't1'")).toBe(1);
  });

  it('discards writes on ROLLBACK', async () => {
    await exec(a, 'begin');
    await exec(a, "insert into items values ('t2', 'k', 1, 'a')");
    await exec(a, 'rollback');
    expect(await count(a, "select count(*) from items where logbucket = 't2'")).toBe(0);
  });

  it('keeps the transaction open after a failing statement, like Snowflake', async () => {
    await exec(a, 'begin');
    await exec(a, "insert into items values ('t3', 'k', 1, 'a')");
    // a run-time error (DuckDB would abort its transaction here) and a compile-time one
    await expect(exec(a, "insert into items values ('t3', 'k', 'not a number', 'a')")).rejects.toMatchObject({
      code: '100038',
    });
    await expect(exec(a, 'select * from no_such_table')).rejects.toMatchObject({ code: '002003' });
    await exec(a, "insert into items values ('t3', 'k', 2, 'a')");
    expect(await count(b, "select count(*) from items where logbucket = 't3'")).toBe(0);
    await exec(a, 'commit');
    expect(await exec(b, "select n from items where logbucket = 't3' order by n")).toEqual([{ N: 1 }, { N: 2 }]);
  });

  it('replays a large (spooled) array INSERT when a later statement fails in the transaction', async () => {
    const rows = Array.from({ length: 4000 }, (_, i) => ['t5', `key-${i}-${'x'.repeat(60)}`, i, 'a']);
    await exec(a, 'begin');
    await exec(a, 'insert into items (logbucket, logkey, n, writer) values (?, ?, ?, ?)', rows);
    await expect(exec(a, "insert into items values ('t5', 'k', 'NaN-ish', 'a')")).rejects.toMatchObject({
      code: '100038',
    });
    await exec(a, "insert into items values ('t5', 'last', -1, 'a')");
    await exec(a, 'commit');
    expect(await exec(b, "select count(*) as c, sum(n) as s from items where logbucket = 't5'")).toEqual([
      { C: 4001, S: (3999 * 4000) / 2 - 1 },
    ]);
  });

  it('commits the open transaction implicitly before DDL', async () => {
    await exec(a, 'begin');
    await exec(a, "insert into items values ('t4', 'k', 1, 'a')");
    await exec(a, 'create table ddl_commits (x number)');
    await exec(a, 'rollback'); // nothing left to roll back
    expect(await count(b, "select count(*) from items where logbucket = 't4'")).toBe(1);
  });

  it('lets exactly one of two racing loaders claim a key; the loser sees the winner and writes nothing', async () => {
    // A holds the claim while B's MERGE on the same table must wait for A's COMMIT.
    const events: string[] = [];
    const claimed = signal();
    const release = signal();
    const first = load(a, 'race-1', 'a', 100, async () => {
      claimed.fire();
      await release.promise;
    }).then((won) => (events.push('A committed'), won));
    await claimed.promise;
    const second = load(b, 'race-1', 'b', 100).then((won) => (events.push('B finished'), won));
    await lockWaiters(1);
    events.push('B waits for the lock');
    release.fire();
    const [wonA, wonB] = await Promise.all([first, second]);
    expect(events).toEqual(['B waits for the lock', 'A committed', 'B finished']);
    expect([wonA, wonB]).toEqual([true, false]);
    expect(await exec(b, "select writer, count(*) as c from items where logkey = 'race-1' group by writer")).toEqual([
      { WRITER: 'a', C: 100 },
    ]);
    expect(await count(b, "select count(*) from ledger where logkey = 'race-1'")).toBe(1);
  });

  it('stays exactly-once when both loaders start at the same moment, repeatedly', async () => {
    for (let i = 0; i < 5; i++) {
      const key = `race-all-${i}`;
      const wins = await Promise.all([load(a, key, 'a', 50), load(b, key, 'b', 50)]);
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await count(a, 'select count(*) from items where logkey = ?', [key])).toBe(50);
      expect(await count(a, 'select count(distinct writer) from items where logkey = ?', [key])).toBe(1);
      expect(await count(a, 'select count(*) from ledger where logkey = ?', [key])).toBe(1);
    }
  });

  it('refreshes the snapshot of an open transaction before a locking MERGE (read committed)', async () => {
    await exec(b, 'begin');
    expect(await count(b, "select count(*) from ledger where logkey = 'late'")).toBe(0); // b's snapshot starts here
    expect(await load(a, 'late', 'a', 3)).toBe(true);
    const claim = await exec<Record<string, number>>(
      b,
      `merge into ledger l using (select 'bucket' as logbucket, 'late' as logkey) s
         on l.logbucket = s.logbucket and l.logkey = s.logkey
       when not matched then insert (logbucket, logkey) values (s.logbucket, s.logkey)`,
    );
    expect(claim).toEqual([{ 'number of rows inserted': 0 }]);
    await exec(b, 'commit');
    expect(await count(a, "select count(*) from ledger where logkey = 'late'")).toBe(1);
  });

  it('lets a transaction that has not written yet read the latest committed rows', async () => {
    await exec(b, 'begin');
    expect(await count(b, "select count(*) from items where logbucket = 't6'")).toBe(0);
    await exec(a, "insert into items values ('t6', 'k', 1, 'a')");
    expect(await count(b, "select count(*) from items where logbucket = 't6'")).toBe(1);
    await exec(b, 'commit');
  });

  it('serializes UPDATE behind another transaction and shows it the committed value', async () => {
    await exec(a, "insert into ledger (logbucket, logkey, rows) values ('bucket', 'upd', 1)");
    await exec(a, 'begin');
    await exec(a, "update ledger set rows = rows + 10 where logkey = 'upd'");
    const pending = execStatement(b, "update ledger set rows = rows * 2 where logkey = 'upd'");
    await lockWaiters(1);
    await exec(a, 'commit');
    await pending;
    expect(await exec(a, "select rows from ledger where logkey = 'upd'")).toEqual([{ ROWS: 22 }]);
  });

  it("fails a waiting MERGE with Snowflake's lock timeout error when the holder never commits", async () => {
    const slow = await startSnowflake({ lockTimeoutMs: 300 });
    try {
      const [x, y] = await Promise.all([slow.connect(), slow.connect()]);
      await exec(x, 'create table t (k varchar)');
      await exec(x, 'begin');
      await exec(x, "delete from t where k = 'a'");
      await expect(exec(y, "delete from t where k = 'b'")).rejects.toMatchObject({ code: '000625' });
      await exec(x, 'rollback');
      await exec(y, "delete from t where k = 'b'");
    } finally {
      await slow.stop();
    }
  });
});
