import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, destroy, exec, startSnowflake, type Connection, type TestSnowflake } from '../src/testing.ts';

const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const publicPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const otherPrivatePem = crypto
  .generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();

let sf: TestSnowflake;
let conn: Connection;

beforeAll(async () => {
  sf = await startSnowflake({
    users: [
      { name: 'local', password: 'local' },
      { name: 'loader', publicKey: publicPem },
    ],
  });
  conn = await sf.connect();
  await exec(conn, 'create table events (id number, note varchar)');
});
afterAll(async () => {
  await sf?.stop();
});

describe('login', () => {
  it("accepts the configured password and rejects a wrong one with Snowflake's code", async () => {
    expect(await exec(conn, 'select current_user() as u')).toEqual([{ U: 'LOCAL' }]);
    await expect(connect(sf.url, { password: 'wrong' })).rejects.toMatchObject({ code: '390100' });
    await expect(connect(sf.url, { username: 'nobody' })).rejects.toMatchObject({ code: '390100' });
  });

  it('accepts a key-pair JWT signed by the registered key and rejects another key', async () => {
    const kp = await connect(sf.url, {
      username: 'loader',
      password: undefined,
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: privatePem,
    });
    try {
      expect(await exec(kp, 'select current_user() as u, 40 + 2 as n')).toEqual([{ U: 'LOADER', N: 42 }]);
    } finally {
      await destroy(kp);
    }
    await expect(
      connect(sf.url, {
        username: 'loader',
        password: undefined,
        authenticator: 'SNOWFLAKE_JWT',
        privateKey: otherPrivatePem,
      }),
    ).rejects.toMatchObject({ code: '390144' });
  });
});

describe('errors', () => {
  it.each([
    ['select * from missing_table', '002003', '42S02'],
    ['select no_such_column from events', '000904', '42000'],
    ['selec 1', '001003', '42000'],
    ["select 'abc'::number", '100038', '22018'],
    ['select 1; select 2', '000008', '0A000'],
  ])('%s → %s', async (sql, code, sqlState) => {
    await expect(exec(conn, sql)).rejects.toMatchObject({ code, sqlState });
  });

  it('runs multi-statement text when MULTI_STATEMENT_COUNT allows it', async () => {
    const results: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      conn.execute({
        sqlText: "insert into events values (100, 'multi'); select count(*) as c from events where id = 100",
        parameters: { MULTI_STATEMENT_COUNT: 2 },
        complete: function next(err: unknown, stmt: { hasNext(): boolean; NextResult(): void }, rows: unknown) {
          if (err) return reject(err);
          results.push(rows);
          if (stmt.hasNext()) stmt.NextResult();
          else resolve();
        },
      } as never);
    });
    expect(results).toEqual([[{ 'number of rows inserted': 1 }], [{ C: 1 }]]);
  });
});

describe('retries and faults', () => {
  it('replays the stored response when the SDK retries a requestId whose response was lost', async () => {
    sf.server.faults.loseResponses(1, { path: /query-request/ });
    const rows = await exec(conn, "insert into events values (1, 'once')");
    expect(rows).toEqual([{ 'number of rows inserted': 1 }]);
    expect(sf.server.faults.log.some((e) => e.kind === 'lose')).toBe(true);
    expect(await exec(conn, 'select count(*) as c from events where id = 1')).toEqual([{ C: 1 }]);
  });

  it('replays by requestId over raw HTTP, including a retry that arrives while the first attempt runs', async () => {
    const login = await fetch(`${sf.url}/session/v1/login-request`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { LOGIN_NAME: 'local', PASSWORD: 'local' } }),
    }).then((r) => r.json() as Promise<{ data: { token: string } }>);
    const post = () =>
      fetch(`${sf.url}/queries/v1/query-request?requestId=11111111-2222-3333-4444-555555555555`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Snowflake Token="${login.data.token}"` },
        body: JSON.stringify({
          sqlText: 'insert into events (id, note) values (?, ?)',
          bindings: { 1: { type: 'FIXED', value: '2' }, 2: { type: 'TEXT', value: 'raw' } },
        }),
      }).then((r) => r.json() as Promise<{ success: boolean; data: { queryId: string; rowset: string[][] } }>);
    sf.server.faults.latency(200, { forMs: 150, path: /query-request/ });
    const [r1, r2] = await Promise.all([post(), post()]);
    const r3 = await post();
    expect(r1.success && r2.success && r3.success).toBe(true);
    expect(new Set([r1.data.queryId, r2.data.queryId, r3.data.queryId]).size).toBe(1);
    expect(r1.data.rowset).toEqual([['1']]);
    expect(await exec(conn, 'select count(*) as c from events where id = 2')).toEqual([{ C: 1 }]);
  });

  it("rides out a period of HTTP 503 through the SDK's own retries", async () => {
    const logged = sf.server.faults.log.length;
    sf.server.faults.unavailable(1200, { path: /query-request/ });
    expect(await exec(conn, "insert into events values (3, 'after outage')")).toEqual([
      { 'number of rows inserted': 1 },
    ]);
    // The statement succeeded after the server refused it at least once: the SDK retried.
    expect(sf.server.faults.log.slice(logged).filter((e) => e.kind === 'unavailable').length).toBeGreaterThanOrEqual(1);
    expect(await exec(conn, 'select count(*) as c from events where id = 3')).toEqual([{ C: 1 }]);
  });

  it('fails the Nth matching statement with the chosen Snowflake error', async () => {
    sf.server.faults.failStatement(/insert into events/i, {
      nth: 2,
      code: '000630',
      sqlState: '57014',
      message: 'Statement reached its statement or warehouse timeout',
    });
    await exec(conn, "insert into events values (10, 'first')");
    await expect(exec(conn, "insert into events values (11, 'second')")).rejects.toMatchObject({
      code: '000630',
      sqlState: '57014',
    });
    await exec(conn, "insert into events values (12, 'third')");
    expect(await exec(conn, 'select id from events where id between 10 and 12 order by id')).toEqual([
      { ID: 10 },
      { ID: 12 },
    ]);
  });

  it('adds latency', async () => {
    const logged = sf.server.faults.log.length;
    sf.server.faults.latency(300, { path: /query-request/ });
    expect(await exec(conn, 'select 1 as one')).toEqual([{ ONE: 1 }]);
    sf.server.faults.clear();
    // The delay was applied to that statement's request (asserted by event, not by a clock).
    expect(sf.server.faults.log.slice(logged)).toEqual([
      expect.objectContaining({ kind: 'latency', detail: expect.stringMatching(/query-request/) }),
    ]);
  });
});

describe('cancel', () => {
  it('interrupts a running statement when the client cancels it', async () => {
    // Events in order, not elapsed time: the statement (4e10 rows, minutes of work) ends with the
    // cancel's error after the cancel was sent; finishing on its own would give a count instead.
    const events: string[] = [];
    const outcome = new Promise<unknown>((resolve) => {
      const stmt = conn.execute({
        sqlText: 'select count(*) from (select a.range * b.range as x from range(200000) a, range(200000) b)',
        complete: (err) => {
          events.push('complete');
          resolve(err);
        },
      });
      setTimeout(() => {
        events.push('cancel');
        stmt.cancel(() => undefined);
      }, 300);
    });
    expect(await outcome).toMatchObject({ code: '000604', message: 'SQL execution canceled' });
    expect(events).toEqual(['cancel', 'complete']);
    expect(await exec(conn, 'select 1 as one')).toEqual([{ ONE: 1 }]);
  });
});

describe('async execution and results by query id', () => {
  it('runs asyncExec statements and serves their status and result', async () => {
    const queryId = await new Promise<string>((resolve, reject) => {
      conn.execute({
        sqlText: 'select 7 as seven',
        asyncExec: true,
        complete: (err, stmt) => (err ? reject(err) : resolve(stmt.getQueryId())),
      });
    });
    let status: Awaited<ReturnType<Connection['getQueryStatus']>> = await conn.getQueryStatus(queryId);
    for (let i = 0; i < 50 && conn.isStillRunning(status as never); i++) status = await conn.getQueryStatus(queryId);
    expect(status).toBe('SUCCESS');
    const rows = await new Promise<unknown[]>((resolve, reject) => {
      conn.getResultsFromQueryId({
        queryId,
        complete: (err: unknown, _s: unknown, r?: unknown[]) => (err ? reject(err) : resolve(r ?? [])),
      } as never);
    });
    expect(rows).toEqual([{ SEVEN: 7 }]);
  });
});
