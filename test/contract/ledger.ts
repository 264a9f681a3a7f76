/**
 * The ledger claim under concurrency, and the lock semantics it rests on, as Snowflake documents
 * them (docs.snowflake.com/en/sql-reference/transactions, "Read committed isolation" and "Resource
 * locking"; LOCK_TIMEOUT in docs.snowflake.com/en/sql-reference/parameters):
 * - a statement sees only committed data, never another transaction's uncommitted writes;
 * - reads do not wait for locks; INSERTs add rows without blocking other INSERTs (or being
 *   blocked by a MERGE's lock);
 * - MERGE/UPDATE/DELETE lock the table until COMMIT or ROLLBACK: a second MERGE waits;
 * - a waiting statement that exceeds the session's LOCK_TIMEOUT (seconds) is aborted.
 * The loader also relies on one thing the pages do not spell out: a MERGE that waited for the
 * lock reads what its holder committed (if it read the state from before, two claims would both
 * win and the object would load twice). The first test is the check of that against the target.
 */
import { describe, expect, it } from 'vitest';
import { ledgerId, Loader, TABLES } from '../../shared/snowflake/loader.ts';
import { exec } from '../../local/harness/snowflake.ts';
import { buffered, count, HookedSession, loaderOptions, lockWaiters, signal, target, verbOf } from './fixtures.ts';
import type { ContractTarget } from './target.ts';

export function ledgerContract(t: () => ContractTarget): void {
  describe('ledger claim: two loaders on two sessions', () => {
    it('while one holds the claim, another session sees nothing of it, its INSERTs pass, its claim waits and then loses', async () => {
      const [a, b, observer] = await Promise.all([t().connect(), t().connect(), t().connect()]);
      const sa = new HookedSession(a);
      const sb = new HookedSession(b);
      const key = 'ledger/race/held';
      const events: string[] = [];
      const holding = signal();
      const release = signal();
      sa.before = async (sql) => {
        if (verbOf(sql) !== 'COMMIT') return;
        holding.fire();
        await release.promise;
      };
      const first = new Loader(sa, loaderOptions()).loadBuffered([buffered(target(key), 5)]);
      await holding.promise;
      // Read committed: the claim and the rows are invisible outside the holder's transaction, and reading does not wait.
      expect(await count(observer, TABLES.ledger, key)).toBe(0);
      expect(await count(observer, TABLES.rows, key)).toBe(0);

      const merging = signal();
      sb.before = (sql) => {
        if (verbOf(sql) === 'INSERT') events.push('B inserts');
        if (verbOf(sql) === 'MERGE') {
          events.push('B claims');
          merging.fire();
        }
      };
      const second = new Loader(sb, loaderOptions()).loadBuffered([buffered(target(key), 7)]);
      try {
        await merging.promise; // B's INSERTs finished while A holds the ledger lock
        await lockWaiters(t(), 1); // and B's MERGE waits for it
        events.push('B waits');
      } finally {
        // Also on failure: a claim left held would block every later test's claim for LOCK_TIMEOUT.
        release.fire();
      }
      const [ra, rb] = await Promise.all([first.then((r) => (events.push('A committed'), r)), second]);
      expect(events).toEqual([
        'B inserts',
        'B inserts',
        'B inserts',
        'B inserts',
        'B claims',
        'B waits',
        'A committed',
      ]);
      expect([...ra.values()]).toEqual(['loaded']);
      expect([...rb.values()]).toEqual(['duplicate']);
      expect(await count(observer, TABLES.rows, key)).toBe(5);
      expect(await count(observer, TABLES.ledger, key)).toBe(1);
    });

    it('two loaders starting together on the same objects: every object loads exactly once, by one of them', async () => {
      const [a, b, observer] = await Promise.all([t().connect(), t().connect(), t().connect()]);
      for (let round = 0; round < 3; round++) {
        const keys = ['x', 'y', 'z'].map((k) => `ledger/race/${round}/${k}`);
        const [ra, rb] = await Promise.all([
          new Loader(new HookedSession(a), loaderOptions()).loadBuffered(keys.map((k) => buffered(target(k), 4))),
          new Loader(new HookedSession(b), loaderOptions()).loadBuffered(
            [...keys].reverse().map((k) => buffered(target(k), 6)),
          ),
        ]);
        for (const key of keys) {
          const id = ledgerId(target(key));
          const outcome = [ra.get(id), rb.get(id)];
          expect(outcome.sort()).toEqual(['duplicate', 'loaded']);
          expect(await count(observer, TABLES.rows, key)).toBe(ra.get(id) === 'loaded' ? 4 : 6);
          expect(await count(observer, TABLES.ledger, key)).toBe(1);
        }
      }
    });
  });

  describe('lock wait timeout', () => {
    it("a claim waiting longer than its session's LOCK_TIMEOUT fails and writes nothing; the holder commits; the retry is a duplicate", async () => {
      const [a, b, observer] = await Promise.all([t().connect(), t().connect(), t().connect()]);
      const sa = new HookedSession(a);
      const key = 'ledger/lock-timeout/a';
      const holding = signal();
      const release = signal();
      sa.before = async (sql) => {
        if (verbOf(sql) !== 'COMMIT') return;
        holding.fire();
        await release.promise;
      };
      const first = new Loader(sa, loaderOptions()).loadBuffered([buffered(target(key), 3)]);
      await holding.promise;
      // The loader sets LOCK_TIMEOUT = 120 s (SESSION_SETUP, applied by connect()); the same
      // parameter at 1 s keeps the test short.
      await exec(b, 'ALTER SESSION SET LOCK_TIMEOUT = 1');
      const sb = new HookedSession(b);
      try {
        const waited = new Loader(sb, loaderOptions()).loadBuffered([buffered(target(key), 8)]);
        await expect(waited).rejects.toThrow();
        expect(sb.broken).toBe(false); // its ROLLBACK went through: the session can go on
      } finally {
        release.fire();
      }
      expect([...(await first).values()]).toEqual(['loaded']);
      expect(await count(observer, TABLES.rows, key)).toBe(3);
      expect(await count(observer, TABLES.ledger, key)).toBe(1);
      const retry = await new Loader(sb, loaderOptions()).loadBuffered([buffered(target(key), 8)]);
      expect([...retry.values()]).toEqual(['duplicate']);
      expect(await count(observer, TABLES.rows, key)).toBe(3);
    });
  });
}
