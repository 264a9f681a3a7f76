/**
 * The 28 columns are defined once, in COLUMNS (shared/access-log/columns.ts). Every other place
 * that spells them out must agree, name for name and position for position: the typed table
 * (sql/01), the fallback UDTF's RETURNS TABLE and the task's INSERT (sql/fallback), the rows pipe
 * (sql/pipe/03) and the CSV records it copies (RecordWriter), the parity check (sql/checks), the
 * vended-log field map, the AccessLogRow type (checked by tsc, see below) and formatLine. (The seed
 * UDTF's 24 are checked against the seed's own list by test/parity/seed-udtf.test.ts.)
 * The SQL files are parsed, not matched by regular expressions over whole statements.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COLUMNS, formatLine, parseLine, type AccessLogRow } from '../../../shared/access-log/index.ts';
import type { Column } from '../../../shared/access-log/columns.ts';
import { FIELD_COLUMNS } from '../../../shared/access-log/formats/vended-record.ts';
import { RecordWriter, STAGED_COLUMNS } from '../../../shared/snowflake/pipe/staged-files.ts';
import { repoRoot } from '../../helpers/corpus.ts';
import { readRecords } from '../../helpers/csv.ts';

// Compile-time: the row type has exactly the columns of COLUMNS (an extra, missing or renamed
// property is a type error here, which `npm test` reports through `tsc --noEmit`).
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const rowTypeHasExactlyTheColumns: Equal<keyof AccessLogRow, Column> = true;

const LINEAGE = ['logbucket', 'logkey', 'logline', 'loadedat'];

const sqlFile = (rel: string) => readFileSync(path.join(repoRoot, rel), 'utf8');

/** SQL text without comments and with string literals emptied (so neither can look like a column). */
function code(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      out += '\n';
    } else if (c === "'") {
      for (i++; i < sql.length; i++) {
        if (sql[i] === "'" && sql[i + 1] === "'") i++;
        else if (sql[i] === "'") break;
      }
      out += "''";
    } else out += c;
  }
  return out;
}

/** The top-level, comma-separated items of the parenthesised list that starts at `text[open]`. */
function listAt(text: string, open: number): string[] {
  if (text[open] !== '(') throw new Error(`no "(" at ${open}: ${text.slice(open, open + 40)}`);
  const items: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) {
      items.push(text.slice(start, i));
      return items.map((s) => s.trim());
    } else if (text[i] === ',' && depth === 1) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  throw new Error('unbalanced parentheses');
}

/** The list right after the (only) match of `before` in the file's code. */
function listAfter(sql: string, before: RegExp): string[] {
  const text = code(sql);
  const matches = [...text.matchAll(new RegExp(before.source, `${before.flags.replace('g', '')}g`))];
  if (matches.length !== 1) throw new Error(`expected one match of ${before}, found ${matches.length}`);
  const m = matches[0]!;
  return listAt(text, text.indexOf('(', m.index + m[0].length - 1));
}

/** Column definitions → their names ("bucketowner VARCHAR" → "bucketowner"). */
const names = (defs: string[]) => defs.map((d) => d.split(/\s+/)[0]!);

describe('COLUMNS is the one list of the typed columns', () => {
  it('has 28 distinct names (the row type has exactly these: checked at compile time)', () => {
    expect(rowTypeHasExactlyTheColumns).toBe(true);
    expect(COLUMNS).toHaveLength(28);
    expect(new Set(COLUMNS).size).toBe(COLUMNS.length);
  });

  it('sql/01-s3_access_logs.sql creates the table with COLUMNS, then the lineage columns', () => {
    const defs = listAfter(sqlFile('sql/01-s3_access_logs.sql'), /CREATE TABLE IF NOT EXISTS s3_access_logs\s*\(/i);
    expect(names(defs)).toEqual([...COLUMNS, ...LINEAGE]);
  });

  it("the fallback UDTF's RETURNS TABLE is COLUMNS, then reject_reason", () => {
    const defs = listAfter(sqlFile('sql/fallback/02-udtf.sql'), /RETURNS TABLE\s*\(/i);
    expect(names(defs)).toEqual([...COLUMNS, 'reject_reason']);
  });

  it('the fallback task inserts COLUMNS into s3_access_logs, each from the UDTF column of the same name', () => {
    const sql = sqlFile('sql/fallback/03-task.sql');
    expect(listAfter(sql, /INSERT INTO s3_access_logs\s*\(/i)).toEqual([...COLUMNS, ...LINEAGE]);
    // The SELECT feeding it maps by position: its n-th expression must read the n-th column.
    const text = code(sql);
    const insert = text.search(/INSERT INTO s3_access_logs\s*\(/i);
    const select = text.indexOf('SELECT', insert);
    const from = text.indexOf('FROM s3_access_logs_task_parsed', select);
    const expressions = splitTopLevel(text.slice(select + 'SELECT'.length, from));
    // Identifiers are lower case in these files, SQL keywords and functions upper case.
    const source = expressions.map((e) => e.match(/\b[a-z_][a-z0-9_]*\b/)?.[0] ?? e.trim());
    expect(source).toEqual([...COLUMNS, 'logbucket', 'logkey', 'logline', 'run_at']);
    // The scratch table holds the UDTF output under the same names, and is filled by name.
    const scratch = ['logbucket', 'logkey', 'logline', 'raw', ...COLUMNS, 'reject_reason'];
    expect(names(listAfter(sql, /CREATE TRANSIENT TABLE IF NOT EXISTS s3_access_logs_task_parsed\s*\(/i))).toEqual(
      scratch,
    );
    expect(listAfter(sql, /INSERT INTO s3_access_logs_task_parsed\s*\(/i)).toEqual(scratch);
    // ... from a SELECT that maps by position: the n-th expression is the staged line's or the UDTF's column.
    const parsedAt = text.search(/INSERT INTO s3_access_logs_task_parsed\s*\(/i);
    const parsedSelect = text.indexOf('SELECT', parsedAt);
    const parsedFrom = text.indexOf('FROM', parsedSelect);
    expect(splitTopLevel(text.slice(parsedSelect + 'SELECT'.length, parsedFrom))).toEqual([
      ...scratch.slice(0, 4).map((c) => `c.${c}`),
      ...scratch.slice(4).map((c) => `p.${c}`),
    ]);
  });

  it("the rows pipe copies the staged files' columns (COLUMNS, then lineage) in order", () => {
    const sql = sqlFile('sql/pipe/03-pipes.sql');
    const target = listAfter(sql, /COPY INTO s3_access_logs\s*\(/i);
    expect(target).toEqual([...COLUMNS, ...LINEAGE]);
    expect(STAGED_COLUMNS.rows).toEqual([...COLUMNS, 'logbucket', 'logkey', 'logline']);
    const text = code(sql);
    const at = text.search(/COPY INTO s3_access_logs\s*\(/i);
    const select = text.indexOf('SELECT', at);
    const expressions = splitTopLevel(text.slice(select + 'SELECT'.length, text.indexOf('FROM', select)));
    expect(expressions).toEqual([...STAGED_COLUMNS.rows.map((_, i) => `$${i + 1}`), 'METADATA$START_SCAN_TIME']);
  });

  it('the CSV writer puts each column of a rows file where STAGED_COLUMNS (and so the pipe) expects it', () => {
    const row = sentinelRow();
    const text = new RecordWriter('log-bucket-29', 'log-key-30').row({
      line: 31,
      raw: '',
      result: { ok: true, row },
    } as Parameters<RecordWriter['row']>[0]);
    const [record] = readRecords(text);
    const byName = Object.fromEntries(STAGED_COLUMNS.rows.map((c, i) => [c, record![i]]));
    expect(record).toHaveLength(STAGED_COLUMNS.rows.length);
    expect(byName).toEqual({ ...row, logbucket: 'log-bucket-29', logkey: 'log-key-30', logline: 31 });
  });

  it('the parity check compares every column, in both of its statements', () => {
    const statements = code(sqlFile('sql/checks/parity.sql')).split(';');
    const metrics = statements.find((s) => /\bAS matching\b/.test(s))!;
    const matching = metrics.slice(0, metrics.search(/\bAS matching\b/));
    const compared = (text: string) => [...text.matchAll(/EQUAL_NULL\(.*?, t\.([a-z_]+)\)/g)].map((m) => m[1]);
    expect(compared(matching.slice(matching.lastIndexOf('COUNT_IF(')))).toEqual([...COLUMNS]);
    expect([...metrics.matchAll(/\bAS differ_([a-z_]+)/g)].map((m) => m[1])).toEqual([...COLUMNS]);
    const unpivot = listAfter(metrics, /FOR metric IN\s*\(/);
    expect(unpivot.filter((m) => m.startsWith('differ_'))).toEqual(COLUMNS.map((c) => `differ_${c}`));
    const lines = statements.find((s) => /\bLIMIT 100\b/.test(s))!;
    expect(compared(lines)).toEqual([...COLUMNS]);
  });

  it('the vended-log fields map to every column but extrafields', () => {
    expect(FIELD_COLUMNS.map((f) => f[1])).toEqual(COLUMNS.filter((c) => c !== 'extrafields'));
  });

  it('formatLine writes every column, each where parseLine reads it back', () => {
    const row = sentinelRow();
    const read = new Set<string | symbol>();
    const line = formatLine(
      new Proxy(row, {
        get(target, p, receiver) {
          read.add(p);
          return Reflect.get(target, p, receiver);
        },
      }),
    );
    expect([...read].filter((p) => typeof p === 'string').sort()).toEqual([...COLUMNS].sort());
    const parsed = parseLine(line);
    expect(parsed).toEqual({ ok: true, row });
  });
});

/** Splits an expression list on its top-level commas. */
function splitTopLevel(text: string): string[] {
  return listAt(`(${text})`, 0);
}

/** A row whose every column holds a value no other column holds, so a swap cannot go unseen. */
function sentinelRow(): AccessLogRow {
  return {
    bucketowner: 'owner-1',
    bucket_name: 'bucket-2',
    requestdatetime: '2026-11-01T10:11:12Z',
    remoteip: '192.0.2.4',
    requester: 'arn:aws:iam::111122223333:user/requester-5',
    requestid: 'REQUEST6',
    operation: 'REST.GET.OBJECT',
    key: 'key-8',
    request_uri: 'GET /bucket-2/key-9 HTTP/1.1',
    httpstatus: 200,
    errorcode: 'ErrorCode11',
    bytessent: 12,
    objectsize: 13,
    totaltime: 14,
    turnaroundtime: 15,
    referrer: 'https://referrer-16.example/',
    useragent: 'agent-17',
    versionid: 'version-18',
    hostid: 'host-19',
    sigv: 'SigV4',
    ciphersuite: 'cipher-21',
    authtype: 'AuthHeader',
    endpoint: 'endpoint-23.example',
    tlsversion: 'TLSv1.3',
    accesspointarn: 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap-25',
    aclrequired: true,
    sourceregion: 'eu-west-27',
    extrafields: 'extra-28',
  };
}
