/**
 * The HTTP route table over raw HTTP: which requests need a session, what an unknown path or a
 * stale token gets, token renewal by master token, logout, and the by-query-id endpoints for ids
 * this server never produced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSnowflakeLocal, type SnowflakeLocal } from '../src/index.ts';

let sf: SnowflakeLocal;
let tokens: { token: string; masterToken: string };

type Answer = { status: number; body: { success?: boolean; code?: string | null; data?: unknown; message?: string } };

async function call(method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${sf.url}${path}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Snowflake Token="${token}"` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

async function login(): Promise<{ token: string; masterToken: string }> {
  const r = await call('POST', '/session/v1/login-request', undefined, {
    data: { LOGIN_NAME: 'local', PASSWORD: 'local' },
  });
  expect(r.body.success).toBe(true);
  return r.body.data as { token: string; masterToken: string };
}

beforeAll(async () => {
  sf = await startSnowflakeLocal({ port: 0, users: [{ name: 'local', password: 'local' }] });
  tokens = await login();
});
afterAll(async () => {
  await sf?.stop();
});

describe('snowflake-local HTTP routes', () => {
  it('asks for a login (401, 390104) on a session route without a valid token, even an unknown path', async () => {
    for (const [method, path, token] of [
      ['POST', '/session/heartbeat', undefined],
      ['POST', '/queries/v1/query-request', 'not-a-token'],
      ['GET', '/no/such/endpoint', undefined],
    ] as const) {
      const r = await call(method, path, token, method === 'POST' ? {} : undefined);
      expect(r, `${method} ${path}`).toMatchObject({ status: 401, body: { code: '390104', success: false } });
    }
  });

  it('answers 404 naming the request for a path it does not implement, and for /session without delete=true', async () => {
    expect(await call('GET', '/no/such/endpoint', tokens.token)).toEqual({
      status: 404,
      body: {
        data: null,
        code: '000404',
        message: 'snowflake-local does not implement GET /no/such/endpoint',
        success: false,
      },
    });
    expect(await call('POST', '/session', tokens.token)).toMatchObject({ status: 404, body: { code: '000404' } });
    expect(await call('POST', '/session/heartbeat', tokens.token)).toMatchObject({
      status: 200,
      body: { success: true },
    });
  });

  it('renews the session token with the master token, not without one', async () => {
    const renewed = await call('POST', '/session/token-request', tokens.masterToken, {});
    expect(renewed).toMatchObject({ status: 200, body: { success: true, data: { sessionToken: tokens.token } } });
    expect(await call('POST', '/session/token-request', 'stale', {})).toMatchObject({
      status: 401,
      body: { code: '390104' },
    });
  });

  it('takes telemetry without a session', async () => {
    expect(await call('POST', '/telemetry/send', undefined, { logs: [] })).toMatchObject({
      status: 200,
      body: { data: 'Log Received', success: true },
    });
  });

  it('reports a query id it never produced: no status entry, and an error for its result', async () => {
    const id = '01234567-89ab-cdef-0123-456789abcdef';
    expect(await call('GET', `/monitoring/queries/${id}`, tokens.token)).toMatchObject({
      status: 200,
      body: { success: true, data: { queries: [] } },
    });
    const result = await call('GET', `/queries/${id}/result`, tokens.token);
    expect(result.status).toBe(200);
    expect(result.body.success).toBe(false);
    expect(result.body.message).toBe(
      `Result for query ${id} is no longer available or was never produced by this server.`,
    );
  });

  it('accepts an abort for a statement that is not running, by path or by requestId', async () => {
    for (const path of ['/queries/v1/abort-request', '/queries/some-query-id/abort-request']) {
      expect(await call('POST', path, tokens.token, { requestId: 'nothing-running' })).toMatchObject({
        status: 200,
        body: { success: true },
      });
    }
  });

  it('logs out: the token then asks for a login again', async () => {
    const other = await login();
    expect(await call('POST', '/session?delete=true', other.token)).toMatchObject({
      status: 200,
      body: { success: true },
    });
    expect(await call('POST', '/session/heartbeat', other.token)).toMatchObject({ status: 401 });
    expect(await call('POST', '/session/heartbeat', tokens.token)).toMatchObject({ status: 200 });
  });
});
