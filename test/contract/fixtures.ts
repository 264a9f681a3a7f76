/**
 * What the contract tests share: objects for the Loader, a session whose statements can be held
 * or made to fail the way a network would, and counting from a session of the test's own.
 */
import { parseLine } from '../../shared/access-log/index.ts';
import { Session, type Bind } from '../../shared/snowflake/connection.ts';
import { RowBuilder, type BufferedObject, type LoadTarget } from '../../shared/snowflake/loader.ts';
import { exec, type Connection } from '../../local/harness/snowflake.ts';
import { linesOf, makeRow } from '../integration/ingest/fixtures.ts';
import type { ContractTarget } from './target.ts';

export const LOG_BUCKET = 'contract-logs';

export const target = (key: string, etag = 'etag-1'): LoadTarget => ({ bucket: LOG_BUCKET, key, etag, force: false });

/** An object of `n` parsed log lines, as the batch logic hands it to the Loader. */
export function buffered(t: LoadTarget, n: number, edit?: (bind: Bind[], i: number) => void): BufferedObject {
  const b = new RowBuilder(t, 'parsed', new Date().toISOString());
  const rows: Bind[][] = [];
  const rejects: Bind[][] = [];
  for (const [i, raw] of linesOf(Array.from({ length: n }, (_, j) => makeRow(j))).entries()) {
    const r = b.add({ line: i + 1, raw, result: parseLine(raw) });
    if (!r.reject) edit?.(r.bind, i);
    (r.reject ? rejects : rows).push(r.bind);
  }
  return { target: t, counts: b.counts, rows, rejects };
}

export const loaderOptions = (chunkRows = 2) => ({
  mode: 'parsed' as const,
  chunkRows,
  loadedAt: new Date().toISOString(),
});

/** Rows (or ledger rows) of one log object, counted from `conn`: committed data only. */
export async function count(conn: Connection, table: string, key: string): Promise<number> {
  const [row] = await exec(conn, `SELECT COUNT(*) AS N FROM ${table} WHERE logbucket = ? AND logkey = ?`, [
    LOG_BUCKET,
    key,
  ]);
  return Number(row?.N ?? row?.n);
}

/** A promise and the function that settles it. */
export function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((r) => (fire = r));
  return { promise, fire };
}

/** Resolves once `n` statements wait for a table lock: an event, never a guess at how long it takes. */
export async function lockWaiters(t: ContractTarget, n: number): Promise<void> {
  const pause = t.kind === 'snowflake' ? 250 : 5;
  for (let i = 0; i < 60_000 / pause; i++) {
    if ((await t.lockWaiters()) >= n) return;
    await new Promise((r) => setTimeout(r, pause));
  }
  throw new Error(`No statement waited for a table lock within 60 s (expected ${n}).`);
}

type Hook = (sql: string) => Promise<void> | void;

/**
 * A Session whose statements can be intercepted by their first word: `before` runs before the
 * statement is sent (hold it, or throw as if the request never arrived), `after` once it succeeded
 * (throw as if its response was lost on the way back, after the server did the work).
 */
export class HookedSession extends Session {
  before: Hook | undefined;
  after: Hook | undefined;
  override async query<T = Record<string, unknown>>(sqlText: string, binds?: Parameters<Session['query']>[1]) {
    await this.before?.(sqlText);
    const rows = await super.query<T>(sqlText, binds);
    await this.after?.(sqlText);
    return rows;
  }
}

export const verbOf = (sql: string): string => sql.trim().split(/\s+/, 1)[0]!.toUpperCase();
