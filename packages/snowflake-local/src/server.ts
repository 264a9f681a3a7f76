/**
 * The HTTP side of snowflake-local: the endpoints snowflake-sdk calls (services/sf.js,
 * connection/statement.js, connection/connection.js) with the response shapes it parses.
 *
 * Every endpoint is one row of ROUTES. A request first passes the injected faults, then finds its
 * route; all but the public ones (login, token renewal, logout, telemetry) need a valid session
 * token, and an unknown path with a valid token is a 404 (without one, a 401 makes the SDK log in).
 */
import http from 'node:http';
import type { SnowflakeLocalUser } from './auth.ts';
import type { Faults } from './faults.ts';
import { send, type RouteContext } from './routes/http.ts';
import { abortRequest, queryRequest, queryResult, queryStatus } from './routes/queries.ts';
import { errorBody, invalidToken } from './routes/responses.ts';
import { heartbeat, login, logout, renewToken, telemetry } from './routes/session.ts';
import { ServerState } from './routes/state.ts';
import type { Session, Warehouse } from './warehouse.ts';

/** Sessions nobody used for this long are closed (a Lambda container may vanish without logout). */
const IDLE_SESSION_MS = 4 * 60 * 60 * 1000;

type Handler = (ctx: RouteContext) => Promise<void> | void;
type SessionHandler = (ctx: RouteContext, session: Session) => Promise<void> | void;

interface RouteMatch {
  method: 'GET' | 'POST';
  /** The exact path, or a pattern whose capture groups become `ctx.params`. */
  path: string | RegExp;
  /** Query parameters the request must carry with these values. */
  query?: Record<string, string>;
}

type Route = RouteMatch & ({ public: true; handle: Handler } | { public?: false; handle: SessionHandler });

/** First match wins: the exact abort path comes before the pattern it would also match. */
const ROUTES: Route[] = [
  { method: 'POST', path: '/session/v1/login-request', public: true, handle: login },
  { method: 'POST', path: '/session/token-request', public: true, handle: renewToken },
  { method: 'POST', path: '/session', query: { delete: 'true' }, public: true, handle: logout },
  { method: 'POST', path: '/telemetry/send', public: true, handle: telemetry },
  { method: 'POST', path: '/session/heartbeat', handle: heartbeat },
  { method: 'POST', path: '/queries/v1/query-request', handle: queryRequest },
  { method: 'GET', path: /^\/queries\/([^/]+)\/result$/, handle: queryResult },
  { method: 'GET', path: /^\/monitoring\/queries\/([^/]+)$/, handle: queryStatus },
  { method: 'POST', path: '/queries/v1/abort-request', handle: abortRequest },
  { method: 'POST', path: /^\/queries\/([^/]+)\/abort-request$/, handle: abortRequest },
];

/** The route for the request and its path parameters, or null. */
function findRoute(method: string | undefined, url: URL): { route: Route; params: string[] } | null {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    if (route.query && Object.entries(route.query).some(([k, v]) => url.searchParams.get(k) !== v)) continue;
    if (typeof route.path === 'string') {
      if (route.path === url.pathname) return { route, params: [] };
      continue;
    }
    const m = url.pathname.match(route.path);
    if (m) return { route, params: m.slice(1) };
  }
  return null;
}

export interface ServerOptions {
  warehouse: Warehouse;
  faults: Faults;
  users?: SnowflakeLocalUser[];
}

export function createHttpServer(opts: ServerOptions): http.Server {
  const state = new ServerState(opts.warehouse, opts.users);
  const server = http.createServer((req, res) => {
    void dispatch(state, opts.faults, req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, errorBody(err));
    });
  });
  const reaper = setInterval(() => state.closeIdle(Date.now() - IDLE_SESSION_MS), 60_000);
  reaper.unref();
  server.on('close', () => {
    clearInterval(reaper);
    state.closeAll();
  });
  return server;
}

async function dispatch(
  state: ServerState,
  faults: Faults,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const fault = faults.beforeRequest(url.pathname);
  if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
  if (fault.status !== null) {
    req.resume();
    send(res, fault.status, { message: 'Service Unavailable (injected by snowflake-local faults)' });
    return;
  }
  const found = findRoute(req.method, url);
  const ctx: RouteContext = {
    req,
    url,
    params: found?.params ?? [],
    state,
    send: (status, body) => send(res, status, body),
    reply: (status, body) =>
      fault.loseResponse
        ? send(res, fault.loseResponse, { message: 'response lost (injected by snowflake-local faults)' })
        : send(res, status, body),
  };
  if (found?.route.public) return found.route.handle(ctx);
  const s = state.sessionOf(req);
  if (!s) {
    req.resume();
    return ctx.send(401, invalidToken);
  }
  s.lastUsed = Date.now();
  if (!found) {
    req.resume();
    const message = `snowflake-local does not implement ${req.method} ${url.pathname}`;
    return ctx.send(404, { data: null, code: '000404', message, success: false });
  }
  return found.route.handle(ctx, s);
}
