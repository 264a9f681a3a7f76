/**
 * Fault injection for tests, reached through `server.faults`:
 *
 *   faults.failStatement(/INSERT INTO s3_access_logs/i, { nth: 2, code: '000630', message: '...' })
 *       the 2nd statement (counted from now) whose SQL text matches fails with that Snowflake
 *       error, before it runs; `times` (default 1) makes it fail that many matching statements in
 *       a row from the Nth on.
 *   faults.stallStatement(/INSERT INTO s3_access_logs /i, 30_000, { nth: 1 })
 *       the 1st matching statement (counted from now) waits 30 s before it runs, as a long
 *       INSERT or COMMIT would: the moment to kill a client "mid-statement" (the log says when).
 *   faults.unavailable(2000, { status: 503, path: /query-request/ })
 *       every HTTP request (matching `path`) is answered with `status` for the next 2000 ms.
 *   faults.loseResponses(1, { path: /query-request/ })
 *       the next matching request is executed, but its response is replaced by a 503, as when a
 *       response is lost on the way back; the client's retry (same requestId) gets the stored one.
 *   faults.latency(300, { forMs: 5000, path: /query-request/ })
 *       adds 300 ms before every matching request is handled (for `forMs`, default: until clear()).
 *   faults.clear()  removes every fault.
 *   faults.log      what fired: [{ kind, detail, at }].
 */
import { SnowflakeError } from './errors.ts';

export interface StatementFault {
  nth?: number;
  times?: number;
  code?: string;
  sqlState?: string;
  message?: string;
}

interface StatementRule {
  pattern: RegExp;
  seen: number;
  nth: number;
  remaining: number;
  error: SnowflakeError;
}

interface StallRule {
  pattern: RegExp;
  seen: number;
  nth: number;
  remaining: number;
  ms: number;
}

interface HttpRule {
  kind: 'unavailable' | 'lose' | 'latency';
  path: RegExp;
  until: number;
  remaining: number;
  status: number;
  ms: number;
}

export interface FaultEvent {
  kind: 'statement' | 'stall' | 'unavailable' | 'lose' | 'latency';
  detail: string;
  at: number;
}

const toRegExp = (p: RegExp | string): RegExp =>
  typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i') : p;

export class Faults {
  private statements: StatementRule[] = [];
  private stalls: StallRule[] = [];
  private http: HttpRule[] = [];
  readonly log: FaultEvent[] = [];

  failStatement(pattern: RegExp | string, opts: StatementFault = {}): void {
    this.statements.push({
      pattern: toRegExp(pattern),
      seen: 0,
      nth: opts.nth ?? 1,
      remaining: opts.times ?? 1,
      error: new SnowflakeError(
        opts.code ?? '000603',
        opts.sqlState ?? 'XX000',
        opts.message ??
          'SQL execution internal error: Processing aborted due to error 300010:391167117; incident 1 (injected by snowflake-local faults).',
      ),
    });
  }

  stallStatement(pattern: RegExp | string, ms: number, opts: { nth?: number; times?: number } = {}): void {
    this.stalls.push({ pattern: toRegExp(pattern), seen: 0, nth: opts.nth ?? 1, remaining: opts.times ?? 1, ms });
  }

  unavailable(forMs: number, opts: { status?: number; path?: RegExp } = {}): void {
    this.http.push({
      kind: 'unavailable',
      path: opts.path ?? /.*/,
      until: Date.now() + forMs,
      remaining: Infinity,
      status: opts.status ?? 503,
      ms: 0,
    });
  }

  loseResponses(count: number, opts: { status?: number; path?: RegExp } = {}): void {
    this.http.push({
      kind: 'lose',
      path: opts.path ?? /query-request/,
      until: Infinity,
      remaining: count,
      status: opts.status ?? 503,
      ms: 0,
    });
  }

  latency(ms: number, opts: { forMs?: number; path?: RegExp } = {}): void {
    this.http.push({
      kind: 'latency',
      path: opts.path ?? /.*/,
      until: opts.forMs === undefined ? Infinity : Date.now() + opts.forMs,
      remaining: Infinity,
      status: 0,
      ms,
    });
  }

  clear(): void {
    this.statements = [];
    this.stalls = [];
    this.http = [];
  }

  /** @internal Throws the injected error if this statement is one that should fail. */
  checkStatement(sql: string): void {
    for (const rule of this.statements) {
      if (rule.remaining <= 0 || !rule.pattern.test(sql)) continue;
      rule.seen++;
      if (rule.seen >= rule.nth) {
        rule.remaining--;
        this.log.push({ kind: 'statement', detail: sql.slice(0, 120), at: Date.now() });
        throw rule.error;
      }
    }
  }

  /** @internal How long this statement must wait before it runs (0: not at all). */
  statementStall(sql: string): number {
    let ms = 0;
    for (const rule of this.stalls) {
      if (rule.remaining <= 0 || !rule.pattern.test(sql)) continue;
      rule.seen++;
      if (rule.seen >= rule.nth) {
        rule.remaining--;
        ms += rule.ms;
        this.log.push({ kind: 'stall', detail: sql.slice(0, 120), at: Date.now() });
      }
    }
    return ms;
  }

  /** @internal What to do with an incoming HTTP request. */
  beforeRequest(path: string): { delayMs: number; status: number | null; loseResponse: number | null } {
    const now = Date.now();
    let delayMs = 0;
    let status: number | null = null;
    let loseResponse: number | null = null;
    for (const rule of this.http) {
      if (now > rule.until || rule.remaining <= 0 || !rule.path.test(path)) continue;
      if (rule.kind === 'latency') {
        delayMs += rule.ms;
        this.log.push({ kind: 'latency', detail: path, at: now });
      } else if (rule.kind === 'unavailable' && status === null) {
        status = rule.status;
        this.log.push({ kind: 'unavailable', detail: path, at: now });
      } else if (rule.kind === 'lose' && loseResponse === null && status === null) {
        rule.remaining--;
        loseResponse = rule.status;
        this.log.push({ kind: 'lose', detail: path, at: now });
      }
    }
    return { delayMs, status, loseResponse };
  }
}
