/**
 * Table write locks with Snowflake's behaviour: MERGE/UPDATE/DELETE on a table wait while another
 * transaction holds that table, and a lock taken inside a transaction is held until COMMIT or
 * ROLLBACK. Waiting ends with Snowflake's lock-timeout error after `timeoutMs`, or sooner when the
 * waiting statement's session set a shorter LOCK_TIMEOUT (0: fail at once instead of waiting).
 */
import { sfError } from './errors.ts';

interface Waiter {
  owner: number;
  grant: () => void;
}

export class TableLocks {
  private readonly holders = new Map<string, number>();
  private readonly queues = new Map<string, Waiter[]>();

  constructor(private readonly timeoutMs: number) {}

  /**
   * Resolves once `owner` holds `key`; true if it had to wait for another owner. While it waits,
   * `onWait(holder)` is called every `checkMs` (the warehouse aborts a detached holder there).
   * `sessionTimeoutMs` is the session's LOCK_TIMEOUT; the server's `timeoutMs` caps it.
   */
  async acquire(
    key: string,
    owner: number,
    statement: string,
    onWait?: (holder: number) => void,
    checkMs = 500,
    sessionTimeoutMs = Infinity,
  ): Promise<boolean> {
    const holder = this.holders.get(key);
    if (holder === undefined || holder === owner) {
      this.holders.set(key, owner);
      return false;
    }
    const timeoutMs = Number.isNaN(sessionTimeoutMs) ? this.timeoutMs : Math.min(this.timeoutMs, sessionTimeoutMs);
    const timedOut = () =>
      sfError(
        'lockTimeout',
        `Statement '${statement.slice(0, 80)}' waited more than ${Math.round(timeoutMs / 1000)} seconds for table ${key}, locked by another transaction, and was aborted.`,
      );
    if (timeoutMs <= 0) throw timedOut();
    await new Promise<void>((resolve, reject) => {
      const check = onWait
        ? setInterval(() => {
            const h = this.holders.get(key);
            if (h !== undefined && h !== owner) onWait(h);
          }, checkMs)
        : undefined;
      const waiter: Waiter = {
        owner,
        grant: () => {
          clearTimeout(timer);
          clearInterval(check);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        clearInterval(check);
        const q = this.queues.get(key) ?? [];
        const at = q.indexOf(waiter);
        if (at >= 0) q.splice(at, 1);
        reject(timedOut());
      }, timeoutMs);
      const q = this.queues.get(key) ?? [];
      q.push(waiter);
      this.queues.set(key, q);
    });
    return true;
  }

  /** Releases every lock `owner` holds and hands each to its next waiter. */
  releaseAll(owner: number): void {
    for (const [key, holder] of [...this.holders]) {
      if (holder !== owner) continue;
      this.holders.delete(key);
      const q = this.queues.get(key);
      const next = q?.shift();
      if (next) {
        this.holders.set(key, next.owner);
        next.grant();
      }
    }
  }

  heldBy(owner: number): string[] {
    return [...this.holders].filter(([, h]) => h === owner).map(([k]) => k);
  }

  /** Statements waiting for a lock right now (tests wait for this instead of sleeping). */
  waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }
}
