/**
 * The backfill invocation payload: a schema for each field, then the rules between fields and
 * against the settings, into a normalized request. Every problem names its field, and all of them
 * come back in one error, because the caller is a person typing CLI flags or a JSON payload in the
 * console, who should fix everything in one go.
 *
 * zod/mini rather than zod: the same checks, but tree-shaken, so they add a few KB to the Lambda
 * bundle where the chainable `zod` API adds a few hundred.
 */
import * as z from 'zod/mini';

export interface BackfillPayload {
  bucket?: string;
  prefix?: string;
  from?: string;
  to?: string;
  dryRun?: boolean;
  force?: boolean;
  maxObjects?: number;
  redriveDlq?: boolean;
  /** Set only by the function itself when it continues in a new invocation. */
  continuation?: unknown;
}

export interface BackfillRequest {
  bucket: string;
  prefix: string;
  /** Requested range, half-open [from, to); undefined = the whole prefix. */
  from?: Date;
  to?: Date;
  dryRun: boolean;
  force: boolean;
  maxObjects?: number;
  redriveDlq: boolean;
}

export interface RequestLimits {
  logBucket: string;
  logPrefix: string;
  /** Buckets a payload may name besides the log bucket. */
  allowedBuckets: string[];
  /** Longest from..to range accepted without `force`. */
  maxRangeDays: number;
}

/** One bad field and what is wrong with it. */
export interface RequestProblem {
  field: string;
  message: string;
}

/**
 * A payload the caller must fix. The message is every problem as `field: what is wrong`, fields
 * with the same problem named together, joined by "; ". `field` is the first bad field (the CLI
 * names its flag).
 */
export class BackfillRequestError extends Error {
  readonly problems: RequestProblem[];
  readonly field: string;

  constructor(problems: RequestProblem[]);
  constructor(field: string, message: string);
  constructor(first: RequestProblem[] | string, message = '') {
    const problems = typeof first === 'string' ? [{ field: first, message }] : first;
    super(describe(problems));
    this.name = 'BackfillRequestError';
    this.problems = problems;
    this.field = problems[0]?.field ?? 'payload';
  }
}

function describe(problems: RequestProblem[]): string {
  const byMessage = new Map<string, string[]>();
  for (const p of problems) byMessage.set(p.message, [...(byMessage.get(p.message) ?? []), p.field]);
  return [...byMessage].map(([message, fields]) => `${fields.join(', ')}: ${message}`).join('; ');
}

const ALLOWED_FIELDS = 'bucket, prefix, from, to, dryRun, force, maxObjects, redriveDlq';
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
// An instant: date, 'T', hh:mm[:ss[.fff]], optional Z or ±hh:mm (none = UTC).
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DAY_MS = 86_400_000;

/** `from`/`to` as a Date, or why it is not one. */
function readTime(field: 'from' | 'to', value: string): Date | string {
  const dateOnly = DATE_ONLY.exec(value);
  if (dateOnly) {
    const [, y, m, d] = dateOnly;
    const t = Date.UTC(+y!, +m! - 1, +d!);
    const date = new Date(t);
    if (date.getUTCMonth() !== +m! - 1 || date.getUTCDate() !== +d!) return `"${value}" is not a calendar date`;
    return field === 'to' ? new Date(t + DAY_MS) : date;
  }
  if (INSTANT.test(value)) {
    const hasZone = /(Z|[+-]\d{2}:\d{2})$/.test(value);
    const date = new Date(hasZone ? value : `${value}Z`);
    if (!Number.isNaN(date.getTime())) {
      // Date() rolls 2026-02-30 over to March; compare the date part back when it is UTC.
      const utc = !hasZone || value.endsWith('Z');
      if (utc && date.toISOString().slice(0, 10) !== value.slice(0, 10)) return `"${value}" is not a calendar date`;
      return date;
    }
  }
  return `"${value}" is not an ISO date (2026-11-01) or instant (2026-11-01T13:00:00Z)`;
}

const notIsoString = (v: unknown) => `must be an ISO date or instant string, got ${typeof v}`;

/**
 * Parses `from`/`to`. A date alone means the start of that UTC day for `from` and the end of it
 * for `to` (so `--from 2026-11-01 --to 2026-11-02` covers both whole days).
 */
export function parseTime(field: 'from' | 'to', value: unknown): Date {
  if (typeof value !== 'string') throw new BackfillRequestError(field, notIsoString(value));
  const date = readTime(field, value);
  if (typeof date === 'string') throw new BackfillRequestError(field, date);
  return date;
}

/** zod's error option: the message from the value that failed. */
const says = (message: (value: unknown) => string) => ({ error: (issue: { input?: unknown }) => message(issue.input) });

const time = (field: 'from' | 'to') =>
  z.pipe(
    z.string(says(notIsoString)),
    z.transform((value: string, ctx) => {
      const date = readTime(field, value);
      if (typeof date !== 'string') return date;
      ctx.issues.push({ code: 'custom', message: date, input: value });
      return z.NEVER;
    }),
  );

const flag = z.optional(z.boolean(says((v) => `must be true or false, got ${JSON.stringify(v)}`)));

/** Each field on its own; the allowed buckets come from the settings, hence a function. */
function payloadSchema(limits: RequestLimits) {
  const allowed = [limits.logBucket, ...limits.allowedBuckets];
  const notBucket = says((v) => `${JSON.stringify(v)} is not a valid S3 bucket name`);
  const prefix = says(() => 'must be a string of at most 1024 characters');
  const count = says((v) => `must be a positive integer, got ${JSON.stringify(v)}`);
  return z.strictObject(
    {
      bucket: z.optional(
        z.string(notBucket).check(
          // A bad name is not also reported as not allowed.
          z.regex(BUCKET_NAME, { ...notBucket, abort: true }),
          z.refine((b) => allowed.includes(b), {
            error: (issue) =>
              `${JSON.stringify(issue.input)} is not allowed; allowed: ${allowed.join(', ')}; to replay it, add it to LOG_BUCKETS`,
          }),
        ),
      ),
      prefix: z.optional(z.string(prefix).check(z.maxLength(1024, prefix))),
      from: z.optional(time('from')),
      to: z.optional(time('to')),
      dryRun: flag,
      force: flag,
      redriveDlq: flag,
      maxObjects: z.optional(z.int(count).check(z.minimum(1, count))),
      continuation: z.optional(z.unknown()),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? 'unknown field' : undefined) },
  );
}

type Fields = z.output<ReturnType<typeof payloadSchema>>;

/** The schema's issues as problems: an unknown key is a problem of its own, named by the key. */
function problemsOf(issues: z.core.$ZodIssue[]): RequestProblem[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: key, message: `unknown field; allowed: ${ALLOWED_FIELDS}` }))
      : [{ field: String(issue.path[0] ?? 'payload'), message: issue.message }],
  );
}

const REDRIVE_ALONE = 'cannot be combined with redriveDlq (a redrive moves every DLQ message)';

/** The rules between fields: a redrive stands alone; a range is ordered and, without force, given and bounded. */
function ruleProblems(p: Fields, prefix: string, limits: RequestLimits, to: Date | undefined): RequestProblem[] {
  if (p.redriveDlq) {
    return (['bucket', 'prefix', 'from', 'to', 'force', 'maxObjects'] as const)
      .filter((field) => p[field] !== undefined)
      .map((field) => ({ field, message: REDRIVE_ALONE }));
  }
  const { from } = p;
  if (to && !from) return [{ field: 'from', message: 'is required when to is given' }];
  if (from && to && from.getTime() >= to.getTime()) {
    return [{ field: 'from', message: `${from.toISOString()} is not before to (${to.toISOString()})` }];
  }
  if (p.force) return [];
  if (!from || !to) {
    return [
      { field: 'from', message: `is required: give a range, or set force to replay the whole prefix "${prefix}"` },
    ];
  }
  const days = (to.getTime() - from.getTime()) / DAY_MS;
  if (days <= limits.maxRangeDays) return [];
  const message = `the range is ${days.toFixed(1)} days, over the maximum of ${limits.maxRangeDays} (BACKFILL_MAX_RANGE_DAYS); set force to run it anyway`;
  return [{ field: 'to', message }];
}

/** The payload as a request, or one `BackfillRequestError` naming every bad field. */
export function validateRequest(payload: unknown, limits: RequestLimits, now: Date = new Date()): BackfillRequest {
  const value = payload ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new BackfillRequestError('payload', 'must be a JSON object');
  }
  const parsed = payloadSchema(limits).safeParse(value);
  if (!parsed.success) throw new BackfillRequestError(problemsOf(parsed.error.issues));
  const p = parsed.data;
  const bucket = p.bucket ?? limits.logBucket;
  const prefix = p.prefix ?? limits.logPrefix;
  // A range without an end runs up to now.
  const to = p.from && !p.to ? now : p.to;
  const problems = ruleProblems(p, prefix, limits, to);
  if (problems.length > 0) throw new BackfillRequestError(problems);
  const dryRun = p.dryRun ?? false;
  if (p.redriveDlq) return { bucket, prefix, dryRun, force: false, redriveDlq: true };
  return {
    bucket,
    prefix,
    from: p.from,
    to,
    dryRun,
    force: p.force ?? false,
    maxObjects: p.maxObjects,
    redriveDlq: false,
  };
}
