/**
 * A loader that dies mid-transaction (kill -9 of a child process running the real handler) must
 * not stop the others, and exactly-once must hold for its object afterwards (issue 12, item 1).
 * snowflake-local's statement stall holds the child inside the statement we want to kill it in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEADLINE_MARGIN_MS } from '../../../functions/ingest/process-batch.ts';
import { count, eventFor, linesOf, makeHandler, makeRow, putLog, query, startStack, type Stack } from './fixtures.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../local/harness/load-child.ts');
/** Short, so that a claim stuck behind the dead session fails inside the test instead of waiting. */
const LOCK_TIMEOUT_MS = 3_000;
/** Snowflake aborts a detached transaction that blocks a lock after 5 idle minutes; here, 1 s. */
const DETACHED_ABORT_MS = 1_000;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ lockTimeoutMs: LOCK_TIMEOUT_MS, detachedAbortMs: DETACHED_ABORT_MS });
});
afterAll(async () => stack?.stop());

type Ref = Awaited<ReturnType<typeof putLog>>;

async function putRows(key: string, n: number, seed: number): Promise<Ref> {
  return putLog(stack, key, `${linesOf(Array.from({ length: n }, (_, i) => makeRow(seed + i))).join('\n')}\n`);
}

/** Starts the handler in a child process on `object`; resolves with it once a stall has fired. */
async function childStalled(object: Ref): Promise<ChildProcess> {
  const stalls = stack.sf.faults.log.filter((e) => e.kind === 'stall').length;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, JSON.stringify({ endpoint: stack.aws.endpoint, snowflakeUrl: stack.sf.url, object })],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 600 && stack.sf.faults.log.filter((e) => e.kind === 'stall').length === stalls; i++) {
    if (child.exitCode !== null)
      throw new Error(`the child loader exited (${child.exitCode}) before reaching the stalled statement`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function ledger(key: string): Promise<{ linecount: number; rowcount: number; rejectcount: number }[]> {
  return query(stack, 'SELECT linecount, rowcount, rejectcount FROM s3_access_logs_loads WHERE logkey = ?', [key]);
}

describe('a loader killed mid-transaction', () => {
  it('mid-INSERT: holds no ledger lock, the others keep loading, and its object loads once on redelivery', async () => {
    const dead = await putRows('logs/dead/mid-insert/victim', 7, 0);
    stack.sf.faults.stallStatement(/^\s*INSERT INTO s3_access_logs /i, 2_000);
    const child = await childStalled(dead);
    await kill9(child);
    stack.sf.faults.clear();

    // Others load while the dead session's transaction is still open on the server.
    const others = [await putRows('logs/dead/mid-insert/a', 3, 100), await putRows('logs/dead/mid-insert/b', 4, 200)];
    const { handle, connections } = makeHandler(stack);
    try {
      expect((await handle(eventFor(others))).batchItemFailures).toEqual([]);
      expect(await count(stack, 's3_access_logs', others[0]!.key)).toBe(3);
      expect(await count(stack, 's3_access_logs', others[1]!.key)).toBe(4);

      // The dead load committed nothing; the redelivery loads it exactly once.
      expect(await count(stack, 's3_access_logs', dead.key)).toBe(0);
      expect((await handle(eventFor([dead]))).batchItemFailures).toEqual([]);
      expect((await handle(eventFor([dead]))).batchItemFailures).toEqual([]);
      expect(await count(stack, 's3_access_logs', dead.key)).toBe(7);
      expect(
        (await ledger(dead.key)).map((r) => [Number(r.linecount), Number(r.rowcount), Number(r.rejectcount)]),
      ).toEqual([[7, 7, 0]]);
    } finally {
      await connections.close();
    }
  });

  it('between the claim and COMMIT (holding the ledger lock): the others wait at most the detached-abort bound, then load; its object loads once', async () => {
    const dead = await putRows('logs/dead/mid-claim/victim', 6, 600);
    // The claim MERGE has run (lock taken); the child dies while its claim SELECT is on the way.
    stack.sf.faults.stallStatement(/^\s*SELECT logbucket, logkey FROM s3_access_logs_loads WHERE claimid/i, 300);
    const child = await childStalled(dead);
    await kill9(child);
    stack.sf.faults.clear();

    const others = [await putRows('logs/dead/mid-claim/a', 3, 700)];
    const { handle, connections } = makeHandler(stack);
    try {
      // This claim waits on the dead transaction's lock until snowflake-local (as Snowflake does)
      // aborts it as detached, well inside the lock timeout.
      expect((await handle(eventFor(others))).batchItemFailures).toEqual([]);
      expect(await count(stack, 's3_access_logs', others[0]!.key)).toBe(3);
      expect(await count(stack, 's3_access_logs', dead.key)).toBe(0);
      expect((await handle(eventFor([dead]))).batchItemFailures).toEqual([]);
      expect((await handle(eventFor([dead]))).batchItemFailures).toEqual([]);
      expect(await count(stack, 's3_access_logs', dead.key)).toBe(6);
      expect((await ledger(dead.key)).map((r) => Number(r.rowcount))).toEqual([6]);
    } finally {
      await connections.close();
    }
  });

  it('mid-COMMIT: the others load, and the object is in the tables exactly once whatever the COMMIT did', async () => {
    const dead = await putRows('logs/dead/mid-commit/victim', 5, 300);
    // Shorter than the lock timeout: the server finishes the COMMIT the dead client sent.
    stack.sf.faults.stallStatement(/^\s*COMMIT\b/i, LOCK_TIMEOUT_MS / 3);
    const child = await childStalled(dead);
    await kill9(child);

    const others = [await putRows('logs/dead/mid-commit/a', 2, 400)];
    const { handle, connections } = makeHandler(stack);
    try {
      expect((await handle(eventFor(others))).batchItemFailures).toEqual([]);
      expect(await count(stack, 's3_access_logs', others[0]!.key)).toBe(2);
      // Redeliveries after the kill: loaded (if the COMMIT never happened) or duplicate, never twice.
      expect((await handle(eventFor([dead]))).batchItemFailures).toEqual([]);
      expect((await handle(eventFor([dead]))).batchItemFailures).toEqual([]);
      expect(await count(stack, 's3_access_logs', dead.key)).toBe(5);
      expect((await ledger(dead.key)).map((r) => Number(r.rowcount))).toEqual([5]);
    } finally {
      stack.sf.faults.clear();
      await connections.close();
    }
  });

  it("a statement still running at the invocation's deadline is cancelled and its transaction dropped, not committed late", async () => {
    const late = await putRows('logs/dead/deadline/victim', 4, 500);
    // The claim MERGE takes longer than the invocation has left (a lock wait, a slow warehouse).
    stack.sf.faults.stallStatement(/^\s*MERGE INTO s3_access_logs_loads/i, 6_000);
    const { handle, connections, summaries } = makeHandler(stack);
    try {
      const endsAt = Date.now() + DEADLINE_MARGIN_MS + 1_000;
      const res = await handle(eventFor([late]), { getRemainingTimeInMillis: () => endsAt - Date.now() });
      expect(res.batchItemFailures).toHaveLength(1);
      expect(summaries.at(-1)!.objectsFailed).toBe(1);
      // After the server has finished the stalled MERGE, the dropped session has rolled it back.
      await new Promise((r) => setTimeout(r, 6_500));
      expect(await count(stack, 's3_access_logs', late.key)).toBe(0);
      expect(await ledger(late.key)).toEqual([]);
      stack.sf.faults.clear();
      expect((await handle(eventFor([late]))).batchItemFailures).toEqual([]);
      expect(await count(stack, 's3_access_logs', late.key)).toBe(4);
    } finally {
      stack.sf.faults.clear();
      await connections.close();
    }
  });
});
