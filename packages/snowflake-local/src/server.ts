/**
 * The HTTP side of snowflake-local: the endpoints snowflake-sdk calls (services/sf.js,
 * connection/statement.js, connection/connection.js) with the response shapes it parses.
 *
 * A query-request carries a client-chosen requestId; the SDK retries a failed or timed-out request
 * with the same requestId. The first response for a requestId is stored and replayed, and a retry
 * that arrives while the first attempt still runs waits for it, so a retry never executes twice.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { checkLogin, type LoginData, type SnowflakeLocalUser } from './auth.ts';
import { SnowflakeError, fromDuckDB, sfError } from './errors.ts';
import type { Faults } from './faults.ts';
import { parseQueryBody } from './request-body.ts';
import { textColumn } from './results.ts';
import type { Binding, Session, StatementOutcome, Warehouse } from './warehouse.ts';

const gunzip = promisify(zlib.gunzip);

type Body = Record<string, unknown>;

interface StoredQuery {
  session: Session;
  done: boolean;
  failed: boolean;
  body: Promise<Body>;
  error?: string;
}

const MAX_STORED = 2000;
/** Responses above this size are not kept for replay; a retried SELECT of that size re-runs. */
const MAX_REPLAY_BYTES = 1024 * 1024;
/** Sessions nobody used for this long are closed (a Lambda container may vanish without logout). */
const IDLE_SESSION_MS = 4 * 60 * 60 * 1000;

export interface ServerOptions {
  warehouse: Warehouse;
  faults: Faults;
  users?: SnowflakeLocalUser[];
}

export function createHttpServer(opts: ServerOptions): http.Server {
  const { warehouse, faults } = opts;
  const sessions = new Map<string, Session>();
  const masterTokens = new Map<string, Session>();
  const requests = new Map<string, { body: Promise<{ json: string; size: number }>; at: number }>();
  const queries = new Map<string, StoredQuery>();
  /** requestId and queryId of statements still running → their session, for abort-request. */
  const running = new Map<string, Session>();

  const remember = <K, V>(map: Map<K, V>, key: K, value: V) => {
    map.set(key, value);
    if (map.size > MAX_STORED) map.delete(map.keys().next().value as K);
  };

  const errorBody = (err: unknown, queryId: string | null = null): Body => {
    const e = err instanceof SnowflakeError ? err : fromDuckDB(err);
    return {
      data: {
        internalError: false,
        errorCode: e.code,
        age: 0,
        sqlState: e.sqlState,
        queryId,
        line: -1,
        pos: -1,
        type: 'COMPILATION',
      },
      code: e.code,
      message: e.message,
      success: false,
      headers: null,
    };
  };

  const sessionState = (s: Session) => ({
    finalDatabaseName: s.database,
    finalSchemaName: s.schema,
    finalWarehouseName: s.warehouse,
    finalRoleName: s.role,
  });

  const resultBody = (s: Session, o: StatementOutcome, numberOfBinds: number): Body => ({
    data: {
      parameters: s.parameterList(),
      rowtype: o.result.rowtype,
      rowset: o.result.rowset,
      total: o.result.rowset.length,
      returned: o.result.rowset.length,
      queryId: o.queryId,
      databaseProvider: null,
      ...sessionState(s),
      numberOfBinds,
      arrayBindSupported: false,
      statementTypeId: o.statementTypeId,
      version: 1,
      sendResultTime: Date.now(),
      queryResultFormat: 'json',
      queryContext: null,
    },
    code: null,
    message: null,
    success: true,
  });

  /** Runs a query-request and returns its response body (success or Snowflake error). */
  const runQuery = async (s: Session, req: Body, queryId: string): Promise<Body> => {
    const sqlText = typeof req.sqlText === 'string' ? req.sqlText : '';
    const bindings = (req.bindings ?? undefined) as Record<string, Binding> | undefined;
    const numberOfBinds = bindings ? Object.keys(bindings).length : 0;
    if (req.bindStage) {
      return errorBody(
        sfError(
          'unsupported',
          'Array binds uploaded to a stage are not supported by snowflake-local; keep CLIENT_STAGE_ARRAY_BINDING_THRESHOLD high (the server sends it at login).',
        ),
        queryId,
      );
    }
    try {
      const outcomes = await s.serialize(() =>
        s.execute(sqlText, bindings, req.parameters as Record<string, unknown> | undefined, req.describeOnly === true),
      );
      if (outcomes.length === 1) {
        const body = resultBody(s, { ...outcomes[0]!, queryId }, numberOfBinds);
        return body;
      }
      for (const o of outcomes) {
        remember(queries, o.queryId, {
          session: s,
          done: true,
          failed: false,
          body: Promise.resolve(resultBody(s, o, 0)),
        });
      }
      return {
        data: {
          parameters: s.parameterList(),
          rowtype: [textColumn('multiple statement execution')],
          rowset: [['Multiple statements executed successfully.']],
          total: 1,
          returned: 1,
          queryId,
          resultIds: outcomes.map((o) => o.queryId).join(','),
          resultTypes: outcomes.map((o) => String(o.statementTypeId)).join(','),
          ...sessionState(s),
          statementTypeId: 0x1000,
          version: 1,
          queryResultFormat: 'json',
          queryContext: null,
        },
        code: null,
        message: null,
        success: true,
      };
    } catch (err) {
      return errorBody(err, queryId);
    }
  };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, errorBody(err));
    });
  });

  const send = (res: http.ServerResponse, status: number, body: Body | string) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  const readBody = async (req: http.IncomingMessage, query = false): Promise<Body> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let buf = Buffer.concat(chunks);
    if (!buf.length) return {};
    if (/gzip/i.test(String(req.headers['content-encoding'] ?? '')) || (buf[0] === 0x1f && buf[1] === 0x8b))
      buf = await gunzip(buf);
    const text = buf.toString('utf8');
    return (query ? parseQueryBody(text) : JSON.parse(text)) as Body;
  };

  const sessionOf = (req: http.IncomingMessage, master = false): Session | null => {
    const m = String(req.headers.authorization ?? '').match(/Snowflake Token="([^"]*)"/);
    if (!m) return null;
    const s = (master ? masterTokens : sessions).get(m[1]!) ?? sessions.get(m[1]!);
    return s && !s.isClosed ? s : null;
  };

  const invalidToken = (res: http.ServerResponse) =>
    send(res, 401, {
      data: null,
      code: '390104',
      message: 'Invalid session token. Log in again.',
      success: false,
      headers: null,
    });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    const fault = faults.beforeRequest(p);
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.status !== null) {
      req.resume();
      send(res, fault.status, { message: 'Service Unavailable (injected by snowflake-local faults)' });
      return;
    }
    const reply = (status: number, body: Body | string) =>
      send(
        res,
        fault.loseResponse ?? status,
        fault.loseResponse ? { message: 'response lost (injected by snowflake-local faults)' } : body,
      );

    if (req.method === 'POST' && p === '/session/v1/login-request') {
      const body = await readBody(req);
      const data = (body.data ?? {}) as LoginData & { SESSION_PARAMETERS?: Record<string, unknown> };
      let user: string;
      try {
        user = checkLogin(data, opts.users);
      } catch (err) {
        reply(200, errorBody(err));
        return;
      }
      const s = await warehouse.openSession(
        user,
        url.searchParams.get('databaseName'),
        url.searchParams.get('schemaName'),
      );
      const wh = url.searchParams.get('warehouse');
      if (wh) s.warehouse = wh.toUpperCase();
      const role = url.searchParams.get('roleName');
      if (role) s.role = role.toUpperCase();
      for (const [k, v] of Object.entries(data.SESSION_PARAMETERS ?? {})) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') s.params[k.toUpperCase()] = v;
      }
      sessions.set(s.token, s);
      masterTokens.set(s.masterToken, s);
      reply(200, {
        data: {
          masterToken: s.masterToken,
          token: s.token,
          validityInSeconds: 3600,
          masterValidityInSeconds: 14400,
          displayUserName: user,
          serverVersion: '8.0.0 (snowflake-local)',
          firstLogin: false,
          remMeToken: null,
          remMeValidityInSeconds: 0,
          healthCheckInterval: 45,
          newClientForUpgrade: null,
          sessionId: s.id,
          parameters: s.parameterList(),
          sessionInfo: { databaseName: s.database, schemaName: s.schema, warehouseName: s.warehouse, roleName: s.role },
          idToken: null,
          idTokenValidityInSeconds: 0,
          responseData: null,
          mfaToken: null,
          mfaTokenValidityInSeconds: 0,
        },
        code: null,
        message: null,
        success: true,
      });
      return;
    }

    if (req.method === 'POST' && p === '/session/token-request') {
      const s = sessionOf(req, true);
      await readBody(req).catch(() => ({}));
      if (!s) return invalidToken(res);
      reply(200, {
        data: {
          sessionToken: s.token,
          validityInSecondsST: 3600,
          masterToken: s.masterToken,
          validityInSecondsMT: 14400,
          sessionId: s.id,
        },
        code: null,
        message: null,
        success: true,
      });
      return;
    }

    if (req.method === 'POST' && p === '/session' && url.searchParams.get('delete') === 'true') {
      req.resume();
      const s = sessionOf(req);
      if (s) {
        sessions.delete(s.token);
        masterTokens.delete(s.masterToken);
        await s.close();
      }
      reply(200, { data: null, code: null, message: null, success: true });
      return;
    }

    if (req.method === 'POST' && p === '/telemetry/send') {
      req.resume();
      reply(200, { data: 'Log Received', code: null, message: null, success: true });
      return;
    }

    const s = sessionOf(req);
    if (!s) {
      req.resume();
      return invalidToken(res);
    }
    s.lastUsed = Date.now();

    let m: RegExpMatchArray | null = null;
    if (req.method === 'POST' && p === '/session/heartbeat') {
      req.resume();
      reply(200, { data: null, code: null, message: null, success: true });
      return;
    }

    if (req.method === 'POST' && p === '/queries/v1/query-request') {
      const requestId = url.searchParams.get('requestId') ?? randomUUID();
      const previous = requests.get(requestId);
      if (previous) {
        req.resume();
        const { json } = await previous.body;
        reply(200, json);
        return;
      }
      let body: Body;
      try {
        body = await readBody(req, true);
      } catch {
        send(res, 400, { data: null, code: '000400', message: 'query-request body is not valid JSON', success: false });
        return;
      }
      const queryId = randomUUID();
      let outBody: Body | null = null;
      const run = async (): Promise<{ json: string; size: number }> => {
        outBody = await runQuery(s, body, queryId);
        const json = JSON.stringify(outBody);
        return { json, size: json.length };
      };
      if (body.asyncExec === true) {
        const stored: StoredQuery = { session: s, done: false, failed: false, body: Promise.resolve({}) };
        stored.body = run().then(({ json }) => {
          const parsed = JSON.parse(json) as Body;
          stored.done = true;
          stored.failed = parsed.success !== true;
          stored.error = parsed.success ? undefined : String(parsed.message);
          return parsed;
        });
        remember(queries, queryId, stored);
        const accepted = JSON.stringify({
          data: { queryId, getResultUrl: `/queries/${queryId}/result`, queryAbortsAfterSecs: 300, progressDesc: null },
          code: '333334',
          message:
            'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.',
          success: true,
        });
        remember(requests, requestId, {
          body: Promise.resolve({ json: accepted, size: accepted.length }),
          at: Date.now(),
        });
        reply(200, accepted);
        return;
      }
      const pending = run();
      remember(requests, requestId, { body: pending, at: Date.now() });
      running.set(requestId, s).set(queryId, s);
      const result = await pending.finally(() => {
        running.delete(requestId);
        running.delete(queryId);
      });
      if (result.size > MAX_REPLAY_BYTES) requests.delete(requestId);
      else if (outBody)
        remember(queries, queryId, { session: s, done: true, failed: false, body: Promise.resolve(outBody) });
      reply(200, result.json);
      return;
    }

    if (req.method === 'GET' && (m = p.match(/^\/queries\/([^/]+)\/result$/))) {
      const q = queries.get(m[1]!);
      if (!q) {
        reply(
          200,
          errorBody(
            sfError(
              'queryMissing',
              `Result for query ${m[1]} is no longer available or was never produced by this server.`,
            ),
            m[1]!,
          ),
        );
        return;
      }
      reply(200, await q.body);
      return;
    }

    if (req.method === 'GET' && (m = p.match(/^\/monitoring\/queries\/([^/]+)$/))) {
      const q = queries.get(m[1]!);
      const status = !q ? 'NO_DATA' : !q.done ? 'RUNNING' : q.failed ? 'FAILED_WITH_ERROR' : 'SUCCESS';
      reply(200, {
        data: { queries: q ? [{ id: m[1], status, errorMessage: q.error ?? null }] : [] },
        code: null,
        message: null,
        success: true,
      });
      return;
    }

    if (
      req.method === 'POST' &&
      (p === '/queries/v1/abort-request' || (m = p.match(/^\/queries\/([^/]+)\/abort-request$/)))
    ) {
      // statement.cancel() and client timeouts: interrupt the statement if it is still running.
      const body = await readBody(req).catch((): Body => ({}));
      const id = m?.[1] ?? String(body.requestId ?? '');
      const target = running.get(id);
      if (target === s) s.interrupt();
      reply(200, { data: null, code: null, message: null, success: true });
      return;
    }

    req.resume();
    send(res, 404, {
      data: null,
      code: '000404',
      message: `snowflake-local does not implement ${req.method} ${p}`,
      success: false,
    });
  }

  const reaper = setInterval(() => {
    const cutoff = Date.now() - IDLE_SESSION_MS;
    for (const [token, s] of sessions) {
      if (s.lastUsed >= cutoff) continue;
      sessions.delete(token);
      masterTokens.delete(s.masterToken);
      void s.close();
    }
  }, 60_000);
  reaper.unref();
  server.on('close', () => {
    clearInterval(reaper);
    for (const s of sessions.values()) void s.close();
  });
  return server;
}
