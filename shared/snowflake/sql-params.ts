/**
 * SQL files with named parameters, bound as values: the investigations (sql/queries/), the
 * detections (sql/detections/, whose window bounds `:since` and `:until` the runner provides) and
 * anything else that keeps a parameterised statement in a file.
 *
 * A file is one statement with a header of `--` comments:
 *
 *   -- name: Who deleted which object
 *   -- Free text: what the query answers.
 *   -- param: key = 'finance/payroll/2026/payroll-2026-10.csv'  the object key, as logged
 *   -- param: since = null  start of the time range (ISO-8601, inclusive)
 *   SELECT ... WHERE key = :key AND (:since IS NULL OR requestdatetime >= TO_TIMESTAMP_TZ(:since))
 *
 * A `param:` line declares a name, its default (a quoted SQL string or `null`) and what it means.
 * In the statement, `:name` is a placeholder; bindParams() turns each into `?` and returns the values
 * in order, so values never become SQL text. A placeholder that is not declared, or a value for a
 * name that is not declared, is an error. `::` casts, `col:path` variant paths and text inside
 * quotes or comments are left alone. A caller may also provide names of its own (`provided`: the
 * detections' window), which need no header line and must be given a value on every bind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { splitSqlStatements } from './sql-files.ts';

export interface SqlParam {
  name: string;
  default: string | null;
  description: string;
}

export interface SqlTemplate {
  /** The file name without its order prefix and extension: `01-who-deleted.sql` → `who-deleted`. */
  id: string;
  file: string;
  title: string;
  /** The header's free-text comment lines, joined. */
  description: string;
  params: SqlParam[];
  /** The statement (comments included), with its `:name` placeholders. */
  sql: string;
  /** Names the caller binds on every run without a header line (e.g. a detection's window). */
  provided?: string[];
}

export interface SqlTemplateOptions {
  /** Names the caller always supplies; a file using them needs no `-- param:` line for them. */
  provided?: string[];
}

export class SqlTemplateError extends Error {
  override name = 'SqlTemplateError';
}

const PARAM_LINE = /^--\s*param:\s*([a-z_][a-z0-9_]*)\s*=\s*('(?:[^']|'')*'|null)\s*(.*)$/i;

export function parseSqlTemplate(file: string, text: string, options: SqlTemplateOptions = {}): SqlTemplate {
  const base = path.basename(file);
  const params: SqlParam[] = [];
  const description: string[] = [];
  let title = base;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('--')) {
      if (t.length > 0) break; // the header ends at the statement
      continue;
    }
    const name = /^--\s*name:\s*(.+)$/.exec(t);
    const param = PARAM_LINE.exec(t);
    if (name) title = name[1]!.trim();
    else if (param) {
      const [, p, def, desc] = param;
      if (params.some((x) => x.name === p)) throw new SqlTemplateError(`${base} declares the parameter "${p}" twice.`);
      params.push({
        name: p!,
        default: def === 'null' || def === 'NULL' ? null : def!.slice(1, -1).replace(/''/g, "'"),
        description: desc!.trim(),
      });
    } else if (/^--\s*param:/i.test(t)) {
      throw new SqlTemplateError(
        `${base}: cannot read "${t}"; write "-- param: name = 'default' what it means" (or = null).`,
      );
    } else description.push(t.replace(/^--\s?/, ''));
  }
  const statements = splitSqlStatements(text);
  if (statements.length !== 1)
    throw new SqlTemplateError(`${base} must hold exactly one statement, found ${statements.length}.`);
  const sql = text.trimEnd().replace(/;$/, '');
  const provided = options.provided ?? [];
  for (const p of params)
    if (provided.includes(p.name))
      throw new SqlTemplateError(
        `${base} declares "${p.name}", which the caller provides; remove its "-- param:" line.`,
      );
  const template: SqlTemplate = {
    id: base.replace(/^\d+-/, '').replace(/\.sql$/, ''),
    file,
    title,
    description: description.join(' ').trim(),
    params,
    sql,
    ...(provided.length ? { provided } : {}),
  };
  placeholders(template); // undeclared placeholders fail on load, not when the query first runs
  return template;
}

/** Every `*.sql` file of `dir`, in file-name order. */
export function loadSqlTemplates(dir: string): SqlTemplate[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseSqlTemplate(path.join(dir, f), readFileSync(path.join(dir, f), 'utf8')));
}

/** Where the placeholders are: [start, end, name] outside strings, quoted identifiers and comments. */
function placeholders(t: SqlTemplate): Array<[number, number, string]> {
  const sql = t.sql;
  const out: Array<[number, number, string]> = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      i = skipQuoted(sql, i, c);
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? sql.length : nl;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (c === '$' && sql[i + 1] === '$') {
      const end = sql.indexOf('$$', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (c === ':' && sql[i + 1] !== ':' && !/[\w:]/.test(sql[i - 1] ?? ' ')) {
      const m = /^[a-z_][a-z0-9_]*/i.exec(sql.slice(i + 1, i + 65));
      if (m) {
        if (!t.params.some((p) => p.name === m[0]) && !t.provided?.includes(m[0])) {
          throw new SqlTemplateError(
            `${path.basename(t.file)} uses :${m[0]} but declares no "-- param: ${m[0]} = ..." line.`,
          );
        }
        out.push([i, i + 1 + m[0].length, m[0]]);
        i += 1 + m[0].length;
        continue;
      }
      i++;
    } else {
      i++;
    }
  }
  return out;
}

function skipQuoted(sql: string, start: number, q: string): number {
  let i = start + 1;
  while (i < sql.length) {
    // In a Snowflake string literal a backslash escapes the next character (`'it\'s'`).
    if (q === "'" && sql[i] === '\\') i += 2;
    else if (sql[i] === q) {
      if (sql[i + 1] === q) i += 2;
      else return i + 1;
    } else i++;
  }
  return i;
}

/**
 * The statement with `?` for each placeholder and the values to bind, in order: `values` over the
 * declared defaults. A value for an undeclared name is an error (a typo must not be ignored).
 */
export function bindParams(
  t: SqlTemplate,
  values: Record<string, string | null | undefined> = {},
): { sqlText: string; binds: Array<string | null> } {
  for (const name of Object.keys(values)) {
    if (values[name] !== undefined && !t.params.some((p) => p.name === name) && !t.provided?.includes(name)) {
      throw new SqlTemplateError(
        `${t.id} takes no parameter "${name}"${t.params.length ? ` (it takes ${t.params.map((p) => p.name).join(', ')})` : ''}.`,
      );
    }
  }
  for (const name of t.provided ?? [])
    if (values[name] === undefined) throw new SqlTemplateError(`${t.id} needs a value for "${name}".`);
  const resolved = new Map(t.params.map((p) => [p.name, values[p.name] !== undefined ? values[p.name]! : p.default]));
  for (const name of t.provided ?? []) resolved.set(name, values[name]!);
  let sqlText = '';
  let last = 0;
  const binds: Array<string | null> = [];
  for (const [start, end, name] of placeholders(t)) {
    sqlText += `${t.sql.slice(last, start)}?`;
    binds.push(resolved.get(name) ?? null);
    last = end;
  }
  return { sqlText: sqlText + t.sql.slice(last), binds };
}

/**
 * The statement with each placeholder replaced by `(expression)`: for SQL this project generates
 * and commits (the detections' scheduled task, which has no binds), never for user input. Every
 * placeholder needs an expression; the caller quotes values as literals.
 */
export function inlineParams(t: SqlTemplate, expressions: Record<string, string>): string {
  let out = '';
  let last = 0;
  for (const [start, end, name] of placeholders(t)) {
    const e = expressions[name];
    if (e === undefined) throw new SqlTemplateError(`${t.id}: no expression for :${name}.`);
    out += `${t.sql.slice(last, start)}(${e})`;
    last = end;
  }
  return out + t.sql.slice(last);
}
