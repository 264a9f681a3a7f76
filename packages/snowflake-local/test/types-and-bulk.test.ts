import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

describe('type round-trips', () => {
  it('keeps the instant of TIMESTAMP_TZ values written with any offset', async () => {
    await exec(conn, 'create table tz (id int, ts timestamp_tz(9), ntz timestamp_ntz, d date)');
    await exec(conn, 'insert into tz values (?, ?, ?, ?)', [
      [1, '2019-02-06 00:00:38 +0000', '2019-02-06 00:00:38', '2019-02-06'],
      [2, '2026-06-30T23:59:59.123456+05:30', '2026-06-30 23:59:59.123456', '2026-06-30'],
      [3, '1969-12-31T23:59:59.5-08:00', '1969-12-31 23:59:59.5', '1969-12-31'],
    ]);
    const rows = await exec<{ ID: number; TS: Date; NTZ: Date; D: Date }>(conn, 'select * from tz order by id');
    expect(rows.map((r) => r.TS.toISOString())).toEqual([
      '2019-02-06T00:00:38.000Z',
      '2026-06-30T18:29:59.123Z',
      '1970-01-01T07:59:59.500Z',
    ]);
    expect(rows.map((r) => r.NTZ.toISOString())).toEqual([
      '2019-02-06T00:00:38.000Z',
      '2026-06-30T23:59:59.123Z',
      '1969-12-31T23:59:59.500Z',
    ]);
    expect(rows.map((r) => r.D.toISOString().slice(0, 10))).toEqual(['2019-02-06', '2026-06-30', '1969-12-31']);
    // microseconds survive on the server side
    expect(await exec(conn, "select to_char(ts, 'YYYY-MM-DD HH24:MI:SS.FF6') as t from tz where id = 2")).toEqual([
      { T: '2026-06-30 18:29:59.123456' },
    ]);
  });

  it('returns integers beyond 2^53 exactly with JS_TREAT_INTEGER_AS_BIGINT', async () => {
    await exec(conn, 'create table big (id number(38,0), n number(38,0), amount number(12,2))');
    const huge = '12345678901234567890123456789';
    await exec(conn, 'insert into big values (?, ?, ?)', [
      [1, String(2n ** 63n + 1n), '1.25'],
      [2, huge, '-0.01'],
      [3, '-9007199254740993', null],
    ]);
    const asBig = await sf.connect({ jsTreatIntegerAsBigInt: true } as never);
    const rows = await exec<{ ID: unknown; N: unknown; AMOUNT: unknown }>(asBig, 'select * from big order by id');
    expect(rows.map((r) => String(r.N))).toEqual([String(2n ** 63n + 1n), huge, '-9007199254740993']);
    expect(typeof rows[0]!.ID).not.toBe('number');
    expect(rows.map((r) => r.AMOUNT)).toEqual([1.25, -0.01, null]); // scale > 0 stays a number
    const asNumber = await exec<{ N: unknown }>(conn, 'select n from big where id = 3');
    expect(typeof asNumber[0]!.N).toBe('number');
    const sum = await exec(asBig, 'select sum(n) as s from big where id in (1, 3)');
    expect(String(sum[0]!.S)).toBe(String(2n ** 63n + 1n - 9007199254740993n));
  });

  it('round-trips booleans, nulls, unicode and quotes untouched', async () => {
    await exec(conn, 'create table txt (k int, s varchar, b boolean)');
    const values = [
      '',
      "it's",
      'tab\there',
      'line\nbreak',
      'emoji 🪣 ünïcödé 日本語',
      '\\N',
      'a"b',
      '--not a comment',
      '?',
      ':1',
    ];
    await exec(conn, 'insert into txt (k, s, b) values (?, ?, ?)', [
      ...values.map((v, i): unknown[] => [i, v, i % 2 === 0]),
      [99, null, null],
    ]);
    const rows = await exec<{ K: number; S: string | null; B: boolean | null }>(
      conn,
      'select k, s, b from txt order by k',
    );
    expect(rows.map((r) => r.S)).toEqual([...values, null]);
    expect(rows.map((r) => r.B)).toEqual([...values.map((_, i) => i % 2 === 0), null]);
    // literals in the SQL text are not touched by the translation either
    expect(await exec(conn, "select 'select ? from :1 -- x' as lit, 'Ab' as \"mixedCase\"")).toEqual([
      { LIT: 'select ? from :1 -- x', mixedCase: 'Ab' },
    ]);
  });
});

describe('bulk array binds', () => {
  it('inserts 50,000 rows x 30 columns in one statement and reads them back', async () => {
    const cols = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const types = cols.map((_, i) =>
      i % 5 === 0
        ? 'number'
        : i % 5 === 1
          ? 'varchar'
          : i % 5 === 2
            ? 'timestamp_tz'
            : i % 5 === 3
              ? 'boolean'
              : 'varchar',
    );
    await exec(conn, `create table bulk (${cols.map((c, i) => `${c} ${types[i]}`).join(', ')})`);
    const n = 50_000;
    const base = Date.UTC(2026, 0, 1);
    const rows = Array.from({ length: n }, (_, r) =>
      cols.map((_, i) =>
        i % 5 === 0
          ? r * 10 + i
          : i % 5 === 1
            ? `row ${r} col ${i} ✓`
            : i % 5 === 2
              ? new Date(base + r * 1000).toISOString()
              : i % 5 === 3
                ? r % 2 === 0
                : r % 7 === 0
                  ? null
                  : `v${r}`,
      ),
    );
    const t0 = Date.now();
    const ins = await execStatement(
      conn,
      `insert into bulk (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')})`,
      rows,
    );
    const ms = Date.now() - t0;
    expect(ins.statement.getNumUpdatedRows()).toBe(n);
    const [agg] = await exec<Record<string, number>>(
      conn,
      `select count(*) as n, sum(c0) as s0, count(c4) as nn4, count_if(c3) as t3, max(c2) as maxts, min(c1) as min1 from bulk`,
    );
    expect(agg).toMatchObject({
      N: n,
      S0: (10 * n * (n - 1)) / 2,
      NN4: n - Math.ceil(n / 7),
      T3: n / 2,
      MIN1: 'row 0 col 1 ✓',
    });
    expect((agg!.MAXTS as unknown as Date).toISOString()).toBe(new Date(base + (n - 1) * 1000).toISOString());
    const [one] = await exec<Record<string, unknown>>(conn, 'select * from bulk where c0 = ?', [12345 * 10]);
    expect(one).toMatchObject({ C1: 'row 12345 col 1 ✓', C3: false, C4: `v12345` });
    console.log(`50k x 30 array insert: ${ms} ms (${Math.round(n / (ms / 1000))} rows/s)`);
  });
});

describe('persistence', () => {
  it('keeps tables and databases in dbPath across restarts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowflake-local-'));
    const dbPath = path.join(dir, 'warehouse.duckdb');
    try {
      const first = await startSnowflake({ dbPath });
      const c1 = await first.connect();
      await exec(c1, 'create table kept (k varchar, n number)');
      await exec(c1, 'insert into kept values (?, ?)', [
        ['a', 1],
        ['b', 2],
      ]);
      await exec(c1, 'begin');
      await exec(c1, "insert into kept values ('uncommitted', 3)");
      await exec(c1, 'create database other');
      await exec(c1, 'create table other.public.t (x int)');
      await exec(c1, 'insert into other.public.t values (42)');
      await first.stop();

      const second = await startSnowflake({ dbPath });
      const c2 = await second.connect();
      expect(await exec(c2, 'select k, n from kept order by k')).toEqual([
        { K: 'a', N: 1 },
        { K: 'b', N: 2 },
        { K: 'uncommitted', N: 3 }, // committed implicitly by the CREATE DATABASE that followed
      ]);
      expect(await exec(c2, 'select x from other.public.t')).toEqual([{ X: 42 }]);
      await second.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
