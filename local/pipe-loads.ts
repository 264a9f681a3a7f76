/**
 * What Snowpipe did since a point in time, from COPY_HISTORY (snowflake-local keeps it like
 * Snowflake): the local stack's summary in load method `pipe` counts what actually reached the
 * tables, and lists every staged file that failed to load, so a failure cannot pass unseen.
 */
import { execute, type Connection } from '../shared/snowflake/connection.ts';
import { TABLES } from '../shared/snowflake/loader.ts';

export interface PipeLoads {
  files: { loaded: number; failed: number };
  /** Ledger rows loaded from manifests: objects complete in Snowflake. */
  objects: number;
  /** Rows loaded into s3_access_logs (parsed) or s3_access_logs_staging (raw). */
  rows: number;
  rejects: number;
  failures: Array<{ table: string; file: string; error: string }>;
}

const PIPE_TABLES = [TABLES.rows, TABLES.rejects, TABLES.staging, TABLES.ledger] as const;

export async function pipeLoads(conn: Connection, since: Date): Promise<PipeLoads> {
  const out: PipeLoads = { files: { loaded: 0, failed: 0 }, objects: 0, rows: 0, rejects: 0, failures: [] };
  // COPY_HISTORY's arguments are literals (a table function takes no binds); both are ours.
  const start = since.toISOString();
  for (const table of PIPE_TABLES) {
    const history = await execute<Record<string, unknown>>(
      conn,
      `SELECT file_name, status, row_count, first_error_message FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(` +
        `TABLE_NAME => '${table.toUpperCase()}', START_TIME => '${start}'::TIMESTAMP_LTZ)) ORDER BY file_name`,
    );
    for (const h of history) {
      if (h.STATUS === 'Loaded') {
        out.files.loaded++;
        const n = Number(h.ROW_COUNT ?? 0);
        if (table === TABLES.ledger) out.objects += n;
        else if (table === TABLES.rejects) out.rejects += n;
        else out.rows += n;
      } else {
        out.files.failed++;
        out.failures.push({
          table,
          file: String(h.FILE_NAME),
          error: `${String(h.STATUS)}: ${String(h.FIRST_ERROR_MESSAGE ?? '(no message)')}`,
        });
      }
    }
  }
  return out;
}
