import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, execStatement, startSnowflake, type Connection, type TestSnowflake } from '../src/testing.ts';

let sf: TestSnowflake;
let conn: Connection;

beforeAll(async () => {
  sf = await startSnowflake();
  conn = await sf.connect();
});
afterAll(async () => {
  await sf?.stop();
});

describe('snowflake-local basics through snowflake-sdk', () => {
  it('starts in S3_ACCESS_LOGS.PUBLIC and answers with upper-case column names', async () => {
    const rows = await exec(conn, 'select current_database() as db, current_schema() as sch, 1 + 1');
    expect(rows).toEqual([{ DB: 'S3_ACCESS_LOGS', SCH: 'PUBLIC', '1 + 1': 2 }]);
  });

  it('binds scalars with ? and :N placeholders', async () => {
    const rows = await exec(conn, 'select ? as s, ? as n, ? as b, ? as f, ? as z', ['héllo ☃', 42, true, 1.25, null]);
    expect(rows).toEqual([{ S: 'héllo ☃', N: 42, B: true, F: 1.25, Z: null }]);
    const r2 = await exec(conn, 'select :2 as second, :1 as first', ['a', 'b']);
    expect(r2).toEqual([{ SECOND: 'b', FIRST: 'a' }]);
  });

  it('creates a table, inserts with array binds and reads typed values back', async () => {
    await exec(
      conn,
      `create or replace table basics (id number(38,0) not null primary key, name varchar(100), ok boolean,
        ts timestamp_tz, amount number(10,2), ratio float, day date, payload variant) comment = 'x'`,
    );
    const ins = await execStatement(
      conn,
      'insert into basics (id, name, ok, ts, amount, ratio, day, payload) values (?, ?, ?, ?, ?, ?, ?, parse_json(?))',
      [
        [1, 'one', true, '2026-03-01T10:00:00+02:00', 10.5, 0.5, '2026-03-01', '{"a":1}'],
        [2, 'two', false, new Date('2026-03-02T00:00:00.123Z'), 3, 1e-3, '2026-03-02', '[1,2]'],
        [3, null, null, null, null, null, null, null],
      ],
    );
    expect(ins.statement.getNumUpdatedRows()).toBe(3);
    expect(ins.rows).toEqual([{ 'number of rows inserted': 3 }]);
    const rows = await exec<Record<string, unknown>>(conn, 'select * from basics order by id');
    expect(rows.map((r) => r.ID)).toEqual([1, 2, 3]);
    expect((rows[0]!.TS as Date).toISOString()).toBe('2026-03-01T08:00:00.000Z');
    expect((rows[1]!.TS as Date).toISOString()).toBe('2026-03-02T00:00:00.123Z');
    expect(rows[0]).toMatchObject({ NAME: 'one', OK: true, AMOUNT: 10.5, RATIO: 0.5, PAYLOAD: { a: 1 } });
    expect((rows[0]!.DAY as Date).toISOString().slice(0, 10)).toBe('2026-03-01');
    expect(rows[1]).toMatchObject({ OK: false, AMOUNT: 3, PAYLOAD: [1, 2] });
    expect(rows[2]).toMatchObject({ NAME: null, OK: null, TS: null, AMOUNT: null, PAYLOAD: null });
  });

  it('reports rows touched by UPDATE, DELETE and MERGE like Snowflake', async () => {
    await exec(conn, 'create or replace table counts (k varchar, v number)');
    await exec(conn, "insert into counts values ('a', 1), ('b', 2), ('c', 3)");
    const up = await execStatement(conn, 'update counts set v = v + 10 where v >= ?', [2]);
    expect(up.rows).toEqual([{ 'number of rows updated': 2, 'number of multi-joined rows updated': 0 }]);
    const merge = await execStatement(
      conn,
      `merge into counts t using (select column1 as k, column2 as v from values ('a', 100), ('z', 26)) s on t.k = s.k
       when matched then update set t.v = s.v when not matched then insert (k, v) values (s.k, s.v)`,
    );
    expect(merge.rows).toEqual([{ 'number of rows inserted': 1, 'number of rows updated': 1 }]);
    expect(merge.statement.getNumUpdatedRows()).toBe(2);
    const del = await execStatement(conn, "delete from counts where k in ('a', 'b')");
    expect(del.rows).toEqual([{ 'number of rows deleted': 2 }]);
    expect(await exec(conn, 'select k, v from counts order by k')).toEqual([
      { K: 'c', V: 13 },
      { K: 'z', V: 26 },
    ]);
  });

  it('translates common Snowflake functions', async () => {
    const rows = await exec(
      conn,
      `select zeroifnull(null) as z, iff(1 < 2, 'yes', 'no') as i, nvl(null, 'x') as n,
        dateadd(day, 1, to_timestamp_tz('2026-01-31T00:00:00Z')) as d,
        datediff(hour, '2026-01-01 00:00:00'::timestamp_ntz, '2026-01-02 06:00:00'::timestamp_ntz) as h,
        try_to_number('12') as t1, try_to_number('x12') as t2, split_part('a-b-c', '-', 2) as sp,
        current_timestamp() is not null as now_ok`,
    );
    expect(rows[0]).toMatchObject({ Z: 0, I: 'yes', N: 'x', H: 30, T1: 12, T2: null, SP: 'b', NOW_OK: true });
    expect((rows[0]!.D as Date).toISOString()).toBe('2026-02-01T00:00:00.000Z');
    const q = await exec(
      conn,
      `select k, v from (select column1 as k, column2 as v from values ('a', 1), ('a', 2), ('b', 3))
       qualify row_number() over (partition by k order by v desc) = 1 order by k`,
    );
    expect(q).toEqual([
      { K: 'a', V: 2 },
      { K: 'b', V: 3 },
    ]);
    const agg = await exec(
      conn,
      `select k, listagg(v, '|') within group (order by v desc) as l, count_if(v > 1) as c
       from (select column1 as k, column2 as v from values ('a', 1), ('a', 2), ('b', 3)) group by k order by k`,
    );
    expect(agg).toEqual([
      { K: 'a', L: '2|1', C: 1 },
      { K: 'b', L: '3', C: 1 },
    ]);
  });

  it('refuses what it cannot emulate with a clear error', async () => {
    for (const sql of [
      'create stage s3_stage',
      "create pipe p as copy into t from @s pattern = '.*'",
      'create stream s on table basics',
      "create task t schedule = '10 minute' as select 1",
      'create storage integration i type = external_stage',
      'create file format ff type = json',
      "create function f(x varchar) returns varchar language python runtime_version = '3.11' handler = 'h' as $$def h(x): return x$$",
      'copy into basics from @s3_stage',
      'put file:///tmp/x @~',
      'execute task t',
      'begin let x := 1; return x; end',
      "select system$stream_has_data('s')",
      "select * from table(flatten(input => parse_json('[1]')))",
    ]) {
      await expect(exec(conn, sql), sql).rejects.toMatchObject({
        code: '000002',
        sqlState: '0A000',
        message: expect.stringContaining('not supported by snowflake-local'),
      });
    }
  });
});
