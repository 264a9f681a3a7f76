/**
 * What the HTTP routes share: the open sessions by token, and the responses kept so that a retried
 * request is answered without running twice, an async query's result can be fetched, and a running
 * statement can be aborted.
 */
import type http from 'node:http';
import type { SnowflakeLocalUser } from '../auth.ts';
import type { Session, Warehouse } from '../warehouse.ts';

/** A JSON response body. */
export type Body = Record<string, unknown>;

export interface StoredQuery {
  session: Session;
  done: boolean;
  failed: boolean;
  body: Promise<Body>;
  error?: string;
}

/** A query-request's response, kept by the client's requestId for the SDK's retry. */
interface StoredRequest {
  body: Promise<{ json: string; size: number }>;
  at: number;
}

const MAX_STORED = 2000;

export class ServerState {
  readonly sessions = new Map<string, Session>();
  readonly masterTokens = new Map<string, Session>();
  readonly requests = new Map<string, StoredRequest>();
  readonly queries = new Map<string, StoredQuery>();
  /** requestId and queryId of statements still running → their session, for abort-request. */
  readonly running = new Map<string, Session>();

  constructor(
    readonly warehouse: Warehouse,
    readonly users: SnowflakeLocalUser[] | undefined,
  ) {}

  /** Keeps a request's response for replay; the oldest is forgotten beyond MAX_STORED. */
  rememberRequest(requestId: string, request: StoredRequest): void {
    remember(this.requests, requestId, request);
  }

  rememberQuery(queryId: string, query: StoredQuery): void {
    remember(this.queries, queryId, query);
  }

  addSession(s: Session): void {
    this.sessions.set(s.token, s);
    this.masterTokens.set(s.masterToken, s);
  }

  closeSession(s: Session): Promise<void> {
    this.sessions.delete(s.token);
    this.masterTokens.delete(s.masterToken);
    return s.close();
  }

  /** The open session whose token the request carries (`master`: its master token also counts). */
  sessionOf(req: http.IncomingMessage, master = false): Session | null {
    const m = String(req.headers.authorization ?? '').match(/Snowflake Token="([^"]*)"/);
    if (!m) return null;
    const s = (master ? this.masterTokens : this.sessions).get(m[1]!) ?? this.sessions.get(m[1]!);
    return s && !s.isClosed ? s : null;
  }

  /** Closes the sessions nobody used since `cutoff` (a Lambda container may vanish without logout). */
  closeIdle(cutoff: number): void {
    for (const s of [...this.sessions.values()]) if (s.lastUsed < cutoff) void this.closeSession(s);
  }

  closeAll(): void {
    for (const s of this.sessions.values()) void s.close();
  }
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.set(key, value);
  if (map.size > MAX_STORED) map.delete(map.keys().next().value as K);
}
