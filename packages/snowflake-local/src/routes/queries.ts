/**
 * The query endpoints: run a statement (or several), fetch an async query's result or status, and
 * abort a running statement.
 *
 * A query-request carries a client-chosen requestId; the SDK retries a failed or timed-out request
 * with the same requestId. The first response for a requestId is stored and replayed, and a retry
 * that arrives while the first attempt still runs waits for it, so a retry never executes twice.
 */
import { randomUUID } from 'node:crypto';
import { sfError } from '../errors.ts';
import { textColumn } from '../results.ts';
import type { Binding, Session } from '../warehouse.ts';
import { readBody, type RouteContext } from './http.ts';
import { errorBody, resultBody, sessionState, success } from './responses.ts';
import type { Body, ServerState, StoredQuery } from './state.ts';

/** Responses above this size are not kept for replay; a retried SELECT of that size re-runs. */
const MAX_REPLAY_BYTES = 1024 * 1024;

/** POST /queries/v1/query-request: runs the statement(s), or replays the response to an earlier attempt. */
export async function queryRequest(ctx: RouteContext, s: Session): Promise<void> {
  const { req, url, state, reply } = ctx;
  const requestId = url.searchParams.get('requestId') ?? randomUUID();
  const previous = state.requests.get(requestId);
  if (previous) {
    req.resume();
    reply(200, (await previous.body).json);
    return;
  }
  let body: Body;
  try {
    body = await readBody(req, true);
  } catch {
    ctx.send(400, { data: null, code: '000400', message: 'query-request body is not valid JSON', success: false });
    return;
  }
  const queryId = randomUUID();
  if (body.asyncExec === true) return startAsync(ctx, s, body, requestId, queryId);
  const pending = runQuery(state, s, body, queryId).then((out) => ({ out, ...serialized(out) }));
  state.rememberRequest(requestId, { body: pending, at: Date.now() });
  state.running.set(requestId, s).set(queryId, s);
  const result = await pending.finally(() => {
    state.running.delete(requestId);
    state.running.delete(queryId);
  });
  if (result.size > MAX_REPLAY_BYTES) state.requests.delete(requestId);
  else state.rememberQuery(queryId, { session: s, done: true, failed: false, body: Promise.resolve(result.out) });
  reply(200, result.json);
}

/** asyncExec: answers "in progress" at once; the result is fetched by queryId when it is done. */
function startAsync({ state, reply }: RouteContext, s: Session, body: Body, requestId: string, queryId: string): void {
  const stored: StoredQuery = { session: s, done: false, failed: false, body: Promise.resolve({}) };
  stored.body = runQuery(state, s, body, queryId).then((out) => {
    stored.done = true;
    stored.failed = out.success !== true;
    stored.error = out.success ? undefined : String(out.message);
    return out;
  });
  state.rememberQuery(queryId, stored);
  const accepted = JSON.stringify({
    data: { queryId, getResultUrl: `/queries/${queryId}/result`, queryAbortsAfterSecs: 300, progressDesc: null },
    code: '333334',
    message: 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.',
    success: true,
  });
  state.rememberRequest(requestId, { body: Promise.resolve(serialized(accepted)), at: Date.now() });
  reply(200, accepted);
}

const serialized = (body: Body | string) => {
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  return { json, size: json.length };
};

/** Runs a query-request and returns its response body (success or Snowflake error). */
async function runQuery(state: ServerState, s: Session, req: Body, queryId: string): Promise<Body> {
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
    if (outcomes.length === 1) return resultBody(s, { ...outcomes[0]!, queryId }, numberOfBinds);
    for (const o of outcomes) {
      state.rememberQuery(o.queryId, {
        session: s,
        done: true,
        failed: false,
        body: Promise.resolve(resultBody(s, o, 0)),
      });
    }
    return multiStatementBody(s, outcomes, queryId);
  } catch (err) {
    return errorBody(err, queryId);
  }
}

/** Several statements in one request: the answer lists the queryIds under which each result was stored. */
function multiStatementBody(s: Session, outcomes: Awaited<ReturnType<Session['execute']>>, queryId: string): Body {
  return success({
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
  });
}

/** GET /queries/<queryId>/result: an async or multi-statement query's result, waiting for it to finish. */
export async function queryResult({ params, state, reply }: RouteContext): Promise<void> {
  const [queryId] = params as [string];
  const q = state.queries.get(queryId);
  if (!q) {
    const missing = `Result for query ${queryId} is no longer available or was never produced by this server.`;
    reply(200, errorBody(sfError('queryMissing', missing), queryId));
    return;
  }
  reply(200, await q.body);
}

/** GET /monitoring/queries/<queryId>: RUNNING, SUCCESS, FAILED_WITH_ERROR, or no entry for an unknown query. */
export function queryStatus({ params, state, reply }: RouteContext): void {
  const [queryId] = params as [string];
  const q = state.queries.get(queryId);
  const status = !q ? 'NO_DATA' : !q.done ? 'RUNNING' : q.failed ? 'FAILED_WITH_ERROR' : 'SUCCESS';
  reply(200, success({ queries: q ? [{ id: queryId, status, errorMessage: q.error ?? null }] : [] }));
}

/**
 * POST /queries/v1/abort-request (the body names the requestId) and /queries/<queryId>/abort-request:
 * statement.cancel() and client timeouts interrupt the statement if it is still running in this session.
 */
export async function abortRequest({ req, params, state, reply }: RouteContext, s: Session): Promise<void> {
  const body = await readBody(req).catch((): Body => ({}));
  const id = params[0] ?? String(body.requestId ?? '');
  if (state.running.get(id) === s) s.interrupt();
  reply(200, success(null));
}
