/** Named, bound parameters in SQL files (shared/snowflake/sql-params.ts) and the investigations that use them. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bindParams,
  inlineParams,
  loadSqlTemplates,
  parseSqlTemplate,
  SqlTemplateError,
} from '../../../shared/snowflake/sql-params.ts';
import { QUERIES_DIR, findInvestigation, investigationValues, listInvestigations } from '../../../cli/investigate.ts';
import { CliError } from '../../../cli/errors.ts';

const text = `-- name: Deletes of a key
-- Who deleted it.
-- param: key = 'a/it''s.csv'  the key
-- param: since = null  from
SELECT ':key' AS literal, "x:key" AS ident, v:key::string AS path, key::varchar AS k -- :key in a comment
FROM t /* :since */ WHERE key = :key AND (:since IS NULL OR ts >= TO_TIMESTAMP_TZ(:since));
`;

/** The statement line of a one-line template (the header comments stay in its text). */
const lastLine = (sql: string) => sql.split('\n').at(-1);

describe('parseSqlTemplate / bindParams', () => {
  const t = parseSqlTemplate('/x/01-deletes.sql', text);

  it('reads the header: id from the file name, title, description, parameters with defaults', () => {
    expect(t).toMatchObject({ id: 'deletes', title: 'Deletes of a key', description: 'Who deleted it.' });
    expect(t.params).toEqual([
      { name: 'key', default: "a/it's.csv", description: 'the key' },
      { name: 'since', default: null, description: 'from' },
    ]);
  });

  it('turns each placeholder into ? with its value, in order, and leaves strings, identifiers, comments and casts alone', () => {
    const { sqlText, binds } = bindParams(t, { since: '2026-11-18T00:00:00.000Z' });
    expect(sqlText).toContain(
      `SELECT ':key' AS literal, "x:key" AS ident, v:key::string AS path, key::varchar AS k -- :key in a comment`,
    );
    expect(sqlText).toContain('/* :since */ WHERE key = ? AND (? IS NULL OR ts >= TO_TIMESTAMP_TZ(?))');
    expect(binds).toEqual(["a/it's.csv", '2026-11-18T00:00:00.000Z', '2026-11-18T00:00:00.000Z']);
    expect(sqlText.endsWith(';')).toBe(false);
  });

  it('binds null for an explicit null and keeps defaults for undefined', () => {
    expect(bindParams(t, { key: null, since: undefined }).binds).toEqual([null, null, null]);
  });

  it('refuses a value for a parameter the file does not declare', () => {
    expect(() => bindParams(t, { ip: '1.2.3.4' })).toThrow(
      new SqlTemplateError('deletes takes no parameter "ip" (it takes key, since).'),
    );
  });

  it('refuses a placeholder without a declaration, a malformed param line, and more than one statement', () => {
    expect(() => parseSqlTemplate('q.sql', 'SELECT :who;')).toThrow(
      /q\.sql uses :who but declares no "-- param: who = \.\.\." line/,
    );
    expect(() => parseSqlTemplate('q.sql', '-- param: who jdoe\nSELECT 1;')).toThrow(
      /cannot read "-- param: who jdoe"/,
    );
    expect(() => parseSqlTemplate('q.sql', 'SELECT 1; SELECT 2;')).toThrow(/exactly one statement, found 2/);
  });

  it('skips a backslash-escaped quote inside a string (Snowflake reads \\ as an escape there)', () => {
    const q = parseSqlTemplate('q.sql', "-- param: n = '1'  n\nSELECT 'it\\'s :n', :n;");
    const { sqlText, binds } = bindParams(q);
    expect(lastLine(sqlText)).toBe("SELECT 'it\\'s :n', ?");
    expect(binds).toEqual(['1']);
  });
});

describe('names the caller provides (a detection window)', () => {
  const w = parseSqlTemplate('w.sql', "-- param: n = '5'  n\nSELECT :since, :n, :until;", {
    provided: ['since', 'until'],
  });

  it('need no header line, are bound like the rest, and must be given', () => {
    expect(w.params.map((p) => p.name)).toEqual(['n']);
    const { sqlText, binds } = bindParams(w, { since: 'a', until: 'b' });
    expect(lastLine(sqlText)).toBe('SELECT ?, ?, ?');
    expect(binds).toEqual(['a', '5', 'b']);
    expect(() => bindParams(w, { since: 'a' })).toThrow(new SqlTemplateError('w needs a value for "until".'));
  });

  it('cannot also be declared by the file', () => {
    expect(() =>
      parseSqlTemplate('w.sql', '-- param: since = null  s\nSELECT :since;', { provided: ['since'] }),
    ).toThrow(/declares "since", which the caller provides/);
  });

  it('inlineParams puts each expression in parentheses where its placeholder was, for generated SQL', () => {
    expect(lastLine(inlineParams(w, { since: 'A', until: 'B', n: "'5'" }))).toBe("SELECT (A), ('5'), (B)");
    expect(() => inlineParams(w, { since: 'A', n: "'5'" })).toThrow(/no expression for :until/);
  });
});

describe('the investigations in sql/queries/', () => {
  const templates = loadSqlTemplates(QUERIES_DIR);

  it('all load, each uses every parameter it declares, and the list shows them with their defaults', () => {
    expect(templates.map((t) => t.id)).toContain('who-deleted');
    for (const t of templates) {
      const { binds } = bindParams(t);
      const uses = new Set([...t.sql.matchAll(/(?<![\w:]):([a-z_]+)/g)].map((m) => m[1]));
      expect([...uses].sort(), path.basename(t.file)).toEqual(t.params.map((p) => p.name).sort());
      expect(binds.length).toBeGreaterThanOrEqual(t.params.length);
    }
    const list = listInvestigations(templates);
    expect(list).toContain('who-deleted');
    expect(list).toContain('--user (default jdoe)');
  });

  it('validates flags before anything runs: unknown investigation, a flag it does not take, dates as typed', () => {
    expect(() => findInvestigation(templates, 'nope')).toThrow(CliError);
    const who = findInvestigation(templates, 'who-deleted');
    expect(() => investigationValues(who, { ip: '1.2.3.4' })).toThrow(
      'who-deleted takes no --ip (it takes --key, --prefix, --bucket, --since, --until).',
    );
    expect(() => investigationValues(who, { since: '2026-02-30' })).toThrow(
      '--since "2026-02-30" is not a calendar date; use YYYY-MM-DD (a whole UTC day) or YYYY-MM-DDTHH:MM:SSZ.',
    );
    expect(() => investigationValues(who, { since: 'yesterday' })).toThrow('--since "yesterday" is not a date;');
    expect(() => investigationValues(who, { since: '2026-11-19', until: '2026-11-18' })).toThrow(
      '--since 2026-11-19 is not before --until 2026-11-18; swap them or widen the range.',
    );
  });

  it('binds times as UTC instants (a date alone covers its whole day) and lets --prefix replace the default key', () => {
    const who = findInvestigation(templates, 'who-deleted');
    expect(investigationValues(who, { since: '2026-11-18', until: '2026-11-18' })).toEqual({
      since: '2026-11-18T00:00:00.000Z',
      until: '2026-11-19T00:00:00.000Z',
    });
    expect(investigationValues(who, { prefix: 'finance/' })).toEqual({ prefix: 'finance/', key: null });
    expect(investigationValues(who, { prefix: 'finance/', key: 'k' })).toEqual({ prefix: 'finance/', key: 'k' });
  });
});
