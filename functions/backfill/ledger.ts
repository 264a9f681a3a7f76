/**
 * Which listed objects the load ledger (`s3_access_logs_loads`) already holds. The ledger row is
 * written in the same transaction as the object's rows, so "in the ledger" means "loaded".
 */

export interface Ledger {
  /** The subset of `keys` (of `bucket`) already loaded. */
  loadedKeys(bucket: string, keys: string[]): Promise<Set<string>>;
}

/** Runs one statement with bound values and returns its rows (column names as the server sends them). */
export type Execute = (sqlText: string, binds: string[]) => Promise<Array<Record<string, unknown>>>;

// Keeps each statement's bind count well under the SDK's inline-bind limit; a listing page is 1,000 keys.
const KEYS_PER_QUERY = 1000;

export function snowflakeLedger(execute: Execute): Ledger {
  return {
    async loadedKeys(bucket, keys) {
      const loaded = new Set<string>();
      for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
        const part = keys.slice(i, i + KEYS_PER_QUERY);
        const rows = await execute(
          `SELECT logkey FROM s3_access_logs_loads WHERE logbucket = ? AND logkey IN (${part.map(() => '?').join(', ')})`,
          [bucket, ...part],
        );
        for (const row of rows) {
          const key = row.LOGKEY ?? row.logkey;
          if (typeof key === 'string') loaded.add(key);
        }
      }
      return loaded;
    },
  };
}
