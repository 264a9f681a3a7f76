/**
 * Applying `.sql` files: split each into statements, run them in order on one connection.
 * Used by `s3-access-logs setup-snowflake` (real Snowflake), `npm start` and the tests
 * (snowflake-local), so the DDL that runs locally is the DDL that ships.
 *
 * The splitter knows just enough Snowflake lexis to find the statement-ending semicolons:
 * `-- …` and `// …` line comments, block comments, '…' strings (with '' and \' escapes),
 * "…" identifiers and $$…$$ bodies (UDF/UDTF code). Comment-only chunks are dropped; comments
 * before a statement are stripped so that the first word is the statement's.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from './connection.ts';

export function splitSqlStatements(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = text.length;
  const push = (end: number) => {
    const stmt = stripLeadingComments(text.slice(start, end)).trim();
    if (stmt !== '') out.push(stmt);
  };
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if ((c === '-' && next === '-') || (c === '/' && next === '/')) {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === "'") {
      i++;
      while (i < n) {
        if (text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") {
          i++;
          break;
        } else i++;
      }
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      i = end === -1 ? n : end + 1;
    } else if (c === '$' && next === '$') {
      const end = text.indexOf('$$', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === ';') {
      push(i);
      i++;
      start = i;
    } else i++;
  }
  push(n);
  return out;
}

function stripLeadingComments(s: string): string {
  let t = s;
  for (;;) {
    const trimmed = t.replace(/^\s+/, '');
    if (trimmed.startsWith('--') || trimmed.startsWith('//')) {
      const nl = trimmed.indexOf('\n');
      t = nl === -1 ? '' : trimmed.slice(nl + 1);
    } else if (trimmed.startsWith('/*')) {
      const end = trimmed.indexOf('*/');
      t = end === -1 ? '' : trimmed.slice(end + 2);
    } else return trimmed;
  }
}

export interface AppliedStatement {
  file: string;
  /** 1-based position of the statement in its file. */
  index: number;
  sql: string;
  /** Milliseconds; set once the statement has run. */
  ms?: number;
}

export class SqlFileError extends Error {
  constructor(
    readonly file: string,
    readonly index: number,
    readonly sql: string,
    override readonly cause: unknown,
  ) {
    const first = sql.split('\n')[0]!.slice(0, 100);
    super(`${path.basename(file)}, statement ${index} (${first}…): ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'SqlFileError';
  }
}

/**
 * Runs every statement of `files`, in the order given, stopping at the first failure (thrown as
 * `SqlFileError` naming file and statement). `onStatement` is called after each statement ran.
 */
export function applySqlFiles(
  conn: Connection,
  files: string[],
  onStatement?: (s: AppliedStatement) => void,
): Promise<AppliedStatement[]> {
  return applyStatements(conn, fileStatements(files), onStatement);
}

/** The statements of `files`, in order, each with its file and position. */
export function fileStatements(files: string[]): AppliedStatement[] {
  return files.flatMap((file) =>
    splitSqlStatements(readFileSync(file, 'utf8')).map((sql, i) => ({ file, index: i + 1, sql })),
  );
}

/** Runs statements in order (see applySqlFiles); for statements that are generated, not read from a file. */
export async function applyStatements(
  conn: Connection,
  statements: AppliedStatement[],
  onStatement?: (s: AppliedStatement) => void,
): Promise<AppliedStatement[]> {
  // Loaded here, not at the top: the CLI lists and splits SQL files (--help, --dry-run) without
  // paying for snowflake-sdk's start-up.
  const { execute } = await import('./connection.ts');
  const applied: AppliedStatement[] = [];
  for (const st of statements) {
    const s: AppliedStatement = { file: st.file, index: st.index, sql: st.sql };
    const t0 = performance.now();
    try {
      await execute(conn, s.sql);
    } catch (err) {
      throw new SqlFileError(s.file, s.index, s.sql, err);
    }
    s.ms = performance.now() - t0;
    applied.push(s);
    onStatement?.(s);
  }
  return applied;
}

/**
 * The checkout holding sql/: the nearest directory above this module with a package.json. Found by
 * walking up because this module also runs bundled from dist/cli/ (the compiled CLI).
 */
export const REPO_ROOT = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '../..');
  }
}

/** The table DDL the ingest path needs: `sql/01-*.sql` … `sql/09-*.sql`, in file-name order. */
export function tableSqlFiles(root: string = REPO_ROOT): string[] {
  const dir = path.join(root, 'sql');
  return readdirSync(dir)
    .filter((f) => /^0[1-9]-.*\.sql$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}
