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

describe('snowflake-local SQL surface', () => {
  it('handles databases, schemas, USE, SHOW and DESCRIBE', async () => {
    await exec(conn, 'create database if not exists analytics');
    expect(await exec(conn, 'select current_database() as d, current_schema() as s')).toEqual([
      { D: 'ANALYTICS', S: 'PUBLIC' },
    ]);
    await exec(conn, 'create schema if not exists staging');
    await exec(conn, 'use schema analytics.staging');
    await exec(
      conn,
      "create transient table t1 (id int primary key, note string comment 'free text', at timestamp_ltz default current_timestamp()) cluster by (id) data_retention_time_in_days = 1",
    );
    await exec(conn, 'alter table t1 add column score number(10,2)');
    const desc = await exec<{ name: string; type: string }>(conn, 'describe table t1');
    expect(desc.map((r) => [r.name, r.type])).toEqual([
      ['ID', 'NUMBER(38,0)'],
      ['NOTE', 'VARCHAR(16777216)'],
      ['AT', 'TIMESTAMP_TZ(9)'],
      ['SCORE', 'NUMBER(10,2)'],
    ]);
    const tables = await exec<{ name: string }>(conn, "show tables like 'T%' in schema analytics.staging");
    expect(tables.map((r) => r.name)).toEqual(['T1']);
    const dbs = await exec<{ name: string }>(conn, 'show databases');
    expect(dbs.map((r) => r.name).sort()).toEqual(['ANALYTICS', 'S3_ACCESS_LOGS']);
    await exec(conn, 'use database s3_access_logs');
    await expect(exec(conn, 'use database nope')).rejects.toMatchObject({ code: '002003' });
    await exec(conn, 'drop database analytics');
    expect((await exec<{ name: string }>(conn, 'show databases')).map((r) => r.name)).toEqual(['S3_ACCESS_LOGS']);
  });

  it('supports CTAS, temporary tables, INSERT OVERWRITE, UPDATE ... FROM, DELETE ... USING and TRUNCATE', async () => {
    await exec(
      conn,
      "create or replace table src as select column1 as k, column2 as v from values ('a', 1), ('b', 2), ('c', 3)",
    );
    await exec(conn, 'create temporary table tmp (k varchar, v number)');
    await exec(conn, "insert into tmp values ('x', 9)");
    const ow = await execStatement(conn, 'insert overwrite into tmp select k, v from src');
    expect(ow.rows).toEqual([{ 'number of rows inserted': 3 }]);
    await exec(conn, "update tmp set v = s.v * 10 from src s where tmp.k = s.k and s.k <> 'a'");
    await exec(conn, 'delete from tmp using src where tmp.k = src.k and src.v = 3');
    expect(await exec(conn, 'select k, v from tmp order by k')).toEqual([
      { K: 'a', V: 1 },
      { K: 'b', V: 20 },
    ]);
    await exec(conn, 'truncate table tmp');
    expect(await exec(conn, 'select count(*) as n from tmp')).toEqual([{ N: 0 }]);
    // another session does not see this session's temporary table
    const other = await sf.connect();
    await expect(exec(other, 'select * from tmp')).rejects.toMatchObject({ code: '002003' });
  });

  it('describes without executing when describeOnly is set', async () => {
    await exec(conn, 'create or replace table described (k varchar, n number(10,2))');
    const columns = await new Promise<Array<{ name: string; type: string; scale: number }>>((resolve, reject) => {
      conn.execute({
        sqlText: 'select k, n, n * 2 as twice from described',
        describeOnly: true,
        complete: (
          err: unknown,
          stmt: { getColumns(): Array<{ getName(): string; getType(): string; getScale(): number }> },
        ) =>
          err
            ? reject(err)
            : resolve(
                (stmt.getColumns() ?? []).map((c) => ({ name: c.getName(), type: c.getType(), scale: c.getScale() })),
              ),
      } as never);
    });
    expect(columns.map((c) => [c.name, c.type])).toEqual([
      ['K', 'text'],
      ['N', 'fixed'],
      ['TWICE', 'fixed'],
    ]);
    await new Promise<void>((resolve, reject) => {
      conn.execute({
        sqlText: "insert into described values ('x', 1)",
        describeOnly: true,
        complete: (err: unknown) => (err ? reject(err) : resolve()),
      } as never);
    });
    expect(await exec(conn, 'select count(*) as n from described')).toEqual([{ N: 0 }]);
  });

  it('answers heartbeats and keeps the session usable', async () => {
    // heartbeatAsync exists at runtime (connection.js) but not in the SDK's type declarations.
    await (conn as unknown as { heartbeatAsync(): Promise<unknown> }).heartbeatAsync();
    expect(await exec(conn, 'select 1 as one')).toEqual([{ ONE: 1 }]);
  });
});
