/** The session endpoints: login, token renewal, logout, heartbeat, and the telemetry the SDK posts. */
import { checkLogin, type LoginData } from '../auth.ts';
import type { Session } from '../warehouse.ts';
import { readBody, type RouteContext } from './http.ts';
import { errorBody, invalidToken, success } from './responses.ts';

type LoginRequest = LoginData & { SESSION_PARAMETERS?: Record<string, unknown> };

/** POST /session/v1/login-request: checks the login, opens a session with the URL's database, schema, warehouse, role. */
export async function login({ req, url, state, reply }: RouteContext): Promise<void> {
  const data = ((await readBody(req)).data ?? {}) as LoginRequest;
  let user: string;
  try {
    user = checkLogin(data, state.users);
  } catch (err) {
    reply(200, errorBody(err));
    return;
  }
  const s = await state.warehouse.openSession(
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
  state.addSession(s);
  reply(200, success(loginResponse(s, user)));
}

function loginResponse(s: Session, user: string) {
  return {
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
  };
}

/** POST /session/token-request: renews the session token; the master token authorizes it. */
export async function renewToken({ req, state, reply, send }: RouteContext): Promise<void> {
  const s = state.sessionOf(req, true);
  await readBody(req).catch(() => ({}));
  if (!s) return send(401, invalidToken);
  reply(
    200,
    success({
      sessionToken: s.token,
      validityInSecondsST: 3600,
      masterToken: s.masterToken,
      validityInSecondsMT: 14400,
      sessionId: s.id,
    }),
  );
}

/** POST /session?delete=true: logout, which closes the session (an unknown token is fine). */
export async function logout({ req, state, reply }: RouteContext): Promise<void> {
  req.resume();
  const s = state.sessionOf(req);
  if (s) await state.closeSession(s);
  reply(200, success(null));
}

/** POST /telemetry/send: accepted and dropped. */
export function telemetry({ req, reply }: RouteContext): void {
  req.resume();
  reply(200, success('Log Received'));
}

/** POST /session/heartbeat: keeps the session alive (the dispatcher already marked it used). */
export function heartbeat({ req, reply }: RouteContext): void {
  req.resume();
  reply(200, success(null));
}
