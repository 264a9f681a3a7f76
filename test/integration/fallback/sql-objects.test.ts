/**
 * Static checks of the fallback path's SQL (sql/fallback/*.sql, sql/checks/parity.sql).
 *
 * snowflake-local refuses Python UDTFs, stages, pipes, streams and tasks, so these objects cannot
 * be created locally. Instead, statement by statement: every file splits into statements with the
 * same splitter `setup-snowflake` uses; the pipe is paused right after creation and nothing resumes
 * it or the task; names and column lists agree with COLUMNS and with the table DDL (sql/0x-*.sql).
 * The UDTF's Python itself runs under python3 in test/parity/fallback-udtf.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COLUMNS } from '../../../shared/access-log/columns.ts';
import { splitSqlStatements } from '../../../shared/snowflake/sql-files.ts';
import { REPO_ROOT, extractUdtfPython } from '../../../cli/parity.ts';

const FALLBACK = path.join(REPO_ROOT, 'sql', 'fallback');
/** What `setup-snowflake --fallback` applies (sql/fallback/*.sql), then the hand-run Snowpipe files. */
const applied = readdirSync(FALLBACK)
  .filter((f) => f.endsWith('.sql'))
  .sort();
const snowpipe = readdirSync(path.join(FALLBACK, 'snowpipe'))
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => `snowpipe/${f}`);
const files = [...applied, ...snowpipe];
const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');

/** Statements of a file with `--` comments removed outside $$ bodies and '…' strings. */
function statements(rel: string): string[] {
  return splitSqlStatements(read(rel)).map(stripComments);
}
function stripComments(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; ) {
    if (sql.startsWith('$$', i)) {
      const end = sql.indexOf('$$', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (sql[i] === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (sql.startsWith('--', i)) {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? sql.length : nl;
    } else {
      out += sql[i];
      i++;
    }
  }
  return out;
}
const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Top-level comma-separated items of the parenthesised list starting at `open`. */
function listAt(sql: string, open: number): string[] {
  expect(sql[open]).toBe('(');
  const items: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") {
      i = sql.indexOf("'", i + 1);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) {
        items.push(sql.slice(start, i));
        return items.map(norm);
      }
    } else if (c === ',' && depth === 1) {
      items.push(sql.slice(start, i));
      start = i + 1;
    }
  }
  throw new Error('unbalanced parentheses');
}
const firstWords = (items: string[]) => items.map((i) => i.split(' ')[0]!.toLowerCase());

/** Column names of `CREATE TABLE … <table> (…)` in a sql/0x file. */
function ddlColumns(table: string): string[] {
  const file = readdirSync(path.join(REPO_ROOT, 'sql')).find(
    (f) => /^0[1-9]-.*\.sql$/.test(f) && read(`sql/${f}`).match(new RegExp(`CREATE TABLE IF NOT EXISTS ${table} \\(`)),
  );
  if (!file) throw new Error(`no DDL for ${table} in sql/0x-*.sql`);
  const stmt = statements(`sql/${file}`).find((s) => new RegExp(`CREATE TABLE IF NOT EXISTS ${table} \\(`).test(s))!;
  return firstWords(listAt(stmt, stmt.indexOf('(')));
}

const all = Object.fromEntries(files.map((f) => [f, statements(`sql/fallback/${f}`)]));
const find = (re: RegExp) => {
  const hits = Object.values(all)
    .flat()
    .filter((s) => re.test(s));
  expect(hits, `exactly one statement matching ${re}`).toHaveLength(1);
  return hits[0]!;
};

describe('sql/fallback files', () => {
  it('are numbered in run order, and each splits into statements of known kinds', () => {
    expect(applied).toEqual(['01-stream.sql', '02-udtf.sql', '03-task.sql', '04-grants.sql']);
    expect(snowpipe).toEqual(['snowpipe/01-storage-integration.sql', 'snowpipe/02-stage.sql', 'snowpipe/03-pipe.sql']);
    for (const [f, stmts] of Object.entries(all)) {
      expect(stmts.length, f).toBeGreaterThan(0);
      for (const s of stmts) expect(s, f).toMatch(/^(CREATE|ALTER|GRANT) /);
      // Each file says when to enable what it creates.
      expect(read(`sql/fallback/${f}`), f).toMatch(/WHEN TO ENABLE/);
    }
    // The files setup-snowflake applies run as they are: placeholders only in the hand-run ones.
    for (const f of applied) expect(all[f]!.join('\n'), f).not.toMatch(/<[A-Z_]+>/);
    for (const f of snowpipe) expect(all[f]!.join('\n'), f).toMatch(/<BUCKET_NAME>|<AWS_ACCOUNT_NUMBER>/);
  });

  it('are idempotent: IF NOT EXISTS for stateful objects, OR REPLACE only where replacing loses nothing', () => {
    for (const s of Object.values(all)
      .flat()
      .filter((x) => x.startsWith('CREATE '))) {
      const head = norm(s).slice(0, 80);
      if (/^CREATE OR REPLACE (FUNCTION|TASK) /.test(head)) continue; // stateless / created suspended
      expect(head).toMatch(
        /^CREATE (TRANSIENT TABLE|STORAGE INTEGRATION|FILE FORMAT|STAGE|STREAM|PIPE) IF NOT EXISTS /,
      );
    }
  });

  it('turn nothing on: the pipe is paused right after creation, nothing resumes the pipe or the task', () => {
    const stmts = all['snowpipe/03-pipe.sql']!;
    expect(norm(stmts[0]!)).toMatch(/^CREATE PIPE IF NOT EXISTS s3_access_logs_pipe AUTO_INGEST = TRUE /);
    expect(norm(stmts[1]!)).toBe('ALTER PIPE s3_access_logs_pipe SET PIPE_EXECUTION_PAUSED = TRUE');
    const code = Object.values(all).flat().join('\n');
    expect(code).not.toMatch(/PIPE_EXECUTION_PAUSED\s*=\s*FALSE/i);
    expect(code).not.toMatch(/ALTER\s+TASK\b[^;]*\bRESUME\b/i);
    expect(code).not.toMatch(/EXECUTE\s+TASK/i);
    // Created suspended (Snowflake's default), on the quickstart's schedule, only when there is data.
    const task = norm(find(/^CREATE OR REPLACE TASK /));
    expect(task).toMatch(
      /^CREATE OR REPLACE TASK s3_access_logs_transformation WAREHOUSE = S3_ACCESS_LOGS_WH SCHEDULE = '10 MINUTE' /,
    );
    expect(task).toContain("WHEN SYSTEM$STREAM_HAS_DATA('s3_access_logs_stream') AS EXECUTE IMMEDIATE $$");
  });

  it('pipe: COPY fills the staging table with lineage from METADATA$FILENAME and METADATA$FILE_ROW_NUMBER', () => {
    const pipe = all['snowpipe/03-pipe.sql']![0]!;
    const copy = pipe.indexOf('COPY INTO s3_access_logs_staging ');
    expect(copy).toBeGreaterThan(0);
    const target = firstWords(listAt(pipe, pipe.indexOf('(', copy)));
    expect(target).toEqual(ddlColumns('s3_access_logs_staging'));
    const select = norm(pipe.slice(pipe.indexOf('SELECT', copy), pipe.indexOf('FROM @s3_access_logs')));
    const exprs = select.replace(/^SELECT /, '').split(/, (?![^(]*\))/);
    expect(exprs).toHaveLength(target.length);
    expect(exprs[1]).toContain('METADATA$FILENAME');
    expect(exprs[2]).toBe('METADATA$FILE_ROW_NUMBER');
    expect(exprs[3]).toBe('stg.$1');
    expect(pipe).toMatch(/FILE_FORMAT = \(FORMAT_NAME = 'text_format'\)/);
  });

  it('stream: a standard stream on the staging table (deletes of a forced replay net out); the task reads its inserts', () => {
    expect(norm(find(/^CREATE STREAM /))).toMatch(
      /^CREATE STREAM IF NOT EXISTS s3_access_logs_stream ON TABLE s3_access_logs_staging COMMENT = /,
    );
    expect(norm(find(/^CREATE OR REPLACE TASK /))).toContain(
      "FROM s3_access_logs_stream WHERE METADATA$ACTION = 'INSERT' QUALIFY ROW_NUMBER() OVER (PARTITION BY logbucket, logkey, logline ORDER BY loadedat DESC) = 1;",
    );
  });

  it('UDTF: returns the 28 columns of s3_access_logs in table order, then reject_reason; Python 3.11 handler', () => {
    const fn = find(/^CREATE OR REPLACE FUNCTION parse_s3_access_logs\(log VARCHAR\)/);
    const returns = listAt(fn, fn.indexOf('(', fn.indexOf('RETURNS TABLE')));
    expect(firstWords(returns)).toEqual([...COLUMNS, 'reject_reason']);
    expect(firstWords(returns).slice(0, 28)).toEqual(ddlColumns('s3_access_logs').slice(0, 28));
    const types = Object.fromEntries(returns.map((r) => r.split(' ')).map(([n, ...t]) => [n, t.join(' ')]));
    for (const c of ['httpstatus', 'bytessent', 'objectsize', 'totaltime', 'turnaroundtime'])
      expect(types[c]).toBe('NUMBER(38, 0)');
    expect(types.aclrequired).toBe('BOOLEAN');
    expect(norm(fn)).toMatch(/LANGUAGE PYTHON RUNTIME_VERSION = '3\.11' HANDLER = 'S3AccessLogParser' /);
    expect(extractUdtfPython(fn)).toMatch(/^class S3AccessLogParser:$/m);
  });

  it("task: claims through the ledger as mode task, inserts typed rows and rejects with the tables' column lists", () => {
    const task = find(/^CREATE OR REPLACE TASK /);
    const body = task.slice(task.indexOf('$$'));
    expect(body).toMatch(/BEGIN TRANSACTION;[\s\S]*COMMIT;[\s\S]*EXCEPTION\s+WHEN OTHER THEN\s+ROLLBACK;\s+RAISE;/);

    // Ledger claim: a MERGE with this run's claimid, first write to the ledger, before any load.
    const merge = body.indexOf('MERGE INTO s3_access_logs_loads');
    expect(merge).toBeGreaterThan(body.indexOf('FROM s3_access_logs_stream'));
    expect(merge).toBeLessThan(body.indexOf('INSERT INTO s3_access_logs ('));
    expect(body.slice(merge, body.indexOf(';', merge))).toMatch(
      /WHEN MATCHED AND t\.mode = 'raw' THEN UPDATE SET\s+mode = 'task', claimid = :claim_id/,
    );
    const ledgerInsert = firstWords(listAt(body, body.indexOf('(', body.indexOf('WHEN NOT MATCHED THEN INSERT'))));
    expect(ledgerInsert).toEqual(ddlColumns('s3_access_logs_loads'));
    const ledgerValues = listAt(body, body.indexOf('(', body.indexOf('VALUES', merge)));
    expect(ledgerValues).toHaveLength(ledgerInsert.length);
    expect(ledgerValues[ledgerInsert.indexOf('mode')]).toBe("'task'");
    expect(ledgerValues[ledgerInsert.indexOf('claimid')]).toBe(':claim_id');

    // Typed rows: 28 columns + lineage, in the table's order, one explicit conversion each.
    const ins = body.indexOf('INSERT INTO s3_access_logs (');
    const target = firstWords(listAt(body, body.indexOf('(', ins)));
    expect(target).toEqual(ddlColumns('s3_access_logs'));
    expect(target).toEqual([...COLUMNS, 'logbucket', 'logkey', 'logline', 'loadedat']);
    const selectText = body.slice(body.indexOf('SELECT', ins), body.indexOf('FROM s3_access_logs_task_parsed', ins));
    const exprs = listAt(`(${selectText.replace(/^SELECT/, '').replace(/--[^\n]*/g, '')})`, 0);
    expect(exprs).toHaveLength(target.length);
    expect(exprs[COLUMNS.indexOf('requestdatetime')]).toMatch(/^TO_TIMESTAMP_TZ\(/);
    for (const [i, c] of COLUMNS.entries())
      if (c !== 'requestdatetime')
        expect(exprs[i]).toMatch(new RegExp(`^CAST\\(${c} AS (VARCHAR|NUMBER\\(38,0\\)|BOOLEAN)\\)$`));
    expect(body.slice(ins, body.indexOf(';', ins))).toMatch(/WHERE reject_reason IS NULL$/);

    // Rejects: every unparseable line, with its reason and raw line.
    const rej = body.indexOf('INSERT INTO s3_access_logs_rejects (');
    expect(firstWords(listAt(body, body.indexOf('(', rej)))).toEqual(ddlColumns('s3_access_logs_rejects'));
    expect(body.slice(rej, body.indexOf(';', rej))).toMatch(
      /reject_reason, raw, :run_at\s+FROM s3_access_logs_task_parsed\s+WHERE reject_reason IS NOT NULL$/,
    );

    // The UDTF runs over the claimed objects' lines only, the latest staged copy of each line.
    expect(body).toMatch(
      /WHERE l\.claimid = :claim_id\s+QUALIFY ROW_NUMBER\(\) OVER \(PARTITION BY b\.logbucket, b\.logkey, b\.logline ORDER BY b\.loadedat DESC\) = 1\s+\) c,\s+TABLE\(parse_s3_access_logs\(c\.raw\)\) p;/,
    );
  });

  it("task: a run's work is bounded; the stream goes to the backlog in its own transaction, a bounded share is transformed", () => {
    const task = find(/^CREATE OR REPLACE TASK /);
    const body = norm(task.slice(task.indexOf('$$')).replace(/--[^\n]*/g, ''));
    // 1. The stream (always consumed whole) is copied to the backlog and committed on its own.
    expect(body).toMatch(
      /^\$\$ DECLARE .* max_lines INTEGER DEFAULT 2000000; .* BEGIN BEGIN TRANSACTION; INSERT INTO s3_access_logs_task_batch \(logbucket, logkey, logline, raw, loadedat\) SELECT logbucket, logkey, logline, raw, loadedat FROM s3_access_logs_stream .*? staged := SQLROWCOUNT; COMMIT; BEGIN TRANSACTION; /,
    );
    // 2. The share: whole objects, oldest first, until max_lines; the first object always.
    expect(body).toContain(
      'SUM(COUNT(*)) OVER (ORDER BY MIN(loadedat), logbucket, logkey ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto',
    );
    expect(body).toContain('WHERE upto - lines < :max_lines;');
    // Only the share is claimed, and it leaves the backlog in the same transaction as its rows.
    expect(body).toContain('MERGE INTO s3_access_logs_loads t USING s3_access_logs_task_run s ON');
    const second = body.slice(body.indexOf('COMMIT; BEGIN TRANSACTION;'));
    expect(second.indexOf('DELETE FROM s3_access_logs_task_batch USING s3_access_logs_task_run r')).toBeGreaterThan(
      second.indexOf('INSERT INTO s3_access_logs_rejects'),
    );
    expect(second.indexOf('DELETE FROM s3_access_logs_task_batch USING')).toBeLessThan(second.lastIndexOf('COMMIT;'));
    // No statement empties the backlog wholesale any more (that lost every line beyond one run).
    expect(body).not.toMatch(/DELETE FROM s3_access_logs_task_batch;/);
  });
});

describe('fallback and parity instructions', () => {
  const readme = read('sql/fallback/README.md');
  const parity = read('sql/checks/parity.sql');

  it('never tell to notify Snowpipe next to the Lambda on the same prefix (S3 refuses overlapping rules); parity uses REFRESH', () => {
    for (const [name, text] of [
      ['README', readme],
      ['parity.sql', parity],
    ] as const) {
      expect(text, name).not.toMatch(/alongside the Lambda|next to the Lambda \(pipe on/);
      expect(text, name).toMatch(/REFRESH PREFIX = '\d{4}-\d{2}-\d{2}'/);
      expect(text, name).toMatch(/no S3\s+notification pointing at the pipe|NO S3 notification pointing at the pipe/i);
    }
    expect(readme).toMatch(/S3 refuses it while the\s+stack's own entry/);
  });

  it('resume a stale pipe (paused > 14 days, the usual case) with SYSTEM$PIPE_FORCE_RESUME and STALENESS_CHECK_OVERRIDE', () => {
    const resume = "SELECT SYSTEM$PIPE_FORCE_RESUME('s3_access_logs_pipe', 'STALENESS_CHECK_OVERRIDE');";
    for (const [name, text] of [
      ['README', readme],
      ['parity.sql', parity],
      ['03-pipe.sql', read('sql/fallback/snowpipe/03-pipe.sql')],
    ] as const) {
      expect(text.replace(/\n--\s*/g, ' '), name).toContain(resume);
    }
  });

  it('say how to drain a backlog larger than one task run', () => {
    expect(readme).toContain('ALTER TASK s3_access_logs_transformation REMOVE WHEN;');
    expect(readme).toContain(
      "ALTER TASK s3_access_logs_transformation MODIFY WHEN SYSTEM$STREAM_HAS_DATA('s3_access_logs_stream');",
    );
    expect(readme).toContain('SELECT COUNT(*) FROM s3_access_logs_task_batch');
  });
});

describe('sql/checks/parity.sql', () => {
  it('compares every column and reports matching, differing and missing counts', () => {
    const stmts = statements('sql/checks/parity.sql');
    expect(stmts).toHaveLength(2);
    const metrics = stmts[0]!;
    for (const c of COLUMNS) {
      expect(metrics).toContain(`AS differ_${c}`);
      expect(metrics).toMatch(
        new RegExp(`EQUAL_NULL\\((u\\.${c}|TO_TIMESTAMP_TZ\\(LEFT\\(u\\.${c}[^)]*\\)[^)]*\\)), t\\.${c}\\)`),
      );
    }
    for (const m of [
      'matching',
      'differing',
      'missing_typed',
      'missing_staged',
      'rejected_by_udtf_only',
      'rejected_by_lambda_only',
    ]) {
      expect(metrics).toContain(`AS ${m}`);
      expect(metrics).toMatch(new RegExp(`UNPIVOT \\(value FOR metric IN \\([^)]*\\b${m}\\b`));
    }
    expect(metrics).toContain('TABLE(parse_s3_access_logs(c.raw))');
    expect(metrics).toContain("WHERE mode = 'parsed'");
  });
});
