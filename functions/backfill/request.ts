/**
 * The backfill invocation payload: strict validation into a normalized request.
 * Every error names the offending field, because the caller is a person typing a CLI flag or a
 * JSON payload in the console.
 */

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

export class BackfillRequestError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'BackfillRequestError';
  }
}

const FIELDS = new Set([
  'bucket',
  'prefix',
  'from',
  'to',
  'dryRun',
  'force',
  'maxObjects',
  'redriveDlq',
  'continuation',
]);
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
// An instant: date, 'T', hh:mm[:ss[.fff]], optional Z or ±hh:mm (none = UTC).
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DAY_MS = 86_400_000;

/**
 * Parses `from`/`to`. A date alone means the start of that UTC day for `from` and the end of it
 * for `to` (so `--from 2026-11-01 --to 2026-11-02` covers both whole days).
 */
export function parseTime(field: 'from' | 'to', value: unknown): Date {
  if (typeof value !== 'string')
    throw new BackfillRequestError(field, `must be an ISO date or instant string, got ${typeof value}`);
  const dateOnly = DATE_ONLY.exec(value);
  if (dateOnly) {
    const [, y, m, d] = dateOnly;
    const t = Date.UTC(+y!, +m! - 1, +d!);
    const date = new Date(t);
    if (date.getUTCMonth() !== +m! - 1 || date.getUTCDate() !== +d!) {
      throw new BackfillRequestError(field, `"${value}" is not a calendar date`);
    }
    return field === 'to' ? new Date(t + DAY_MS) : date;
  }
  if (INSTANT.test(value)) {
    const hasZone = /(Z|[+-]\d{2}:\d{2})$/.test(value);
    const date = new Date(hasZone ? value : `${value}Z`);
    if (!Number.isNaN(date.getTime())) {
      // Date() rolls 2026-02-30 over to March; compare the date part back when it is UTC.
      if (!hasZone || value.endsWith('Z')) {
        if (date.toISOString().slice(0, 10) !== value.slice(0, 10)) {
          throw new BackfillRequestError(field, `"${value}" is not a calendar date`);
        }
      }
      return date;
    }
  }
  throw new BackfillRequestError(field, `"${value}" is not an ISO date (2026-11-01) or instant (2026-11-01T13:00:00Z)`);
}

function bool(payload: Record<string, unknown>, field: string): boolean {
  const v = payload[field];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new BackfillRequestError(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function validateRequest(payload: unknown, limits: RequestLimits, now: Date = new Date()): BackfillRequest {
  if (payload === null || payload === undefined) payload = {};
  if (typeof payload !== 'object' || Array.isArray(payload)) {
    throw new BackfillRequestError('payload', 'must be a JSON object');
  }
  const p = payload as Record<string, unknown>;
  for (const field of Object.keys(p)) {
    if (!FIELDS.has(field)) {
      throw new BackfillRequestError(
        field,
        `unknown field; allowed: bucket, prefix, from, to, dryRun, force, maxObjects, redriveDlq`,
      );
    }
  }

  let bucket = limits.logBucket;
  if (p.bucket !== undefined) {
    if (typeof p.bucket !== 'string' || !BUCKET_NAME.test(p.bucket)) {
      throw new BackfillRequestError('bucket', `${JSON.stringify(p.bucket)} is not a valid S3 bucket name`);
    }
    if (p.bucket !== limits.logBucket && !limits.allowedBuckets.includes(p.bucket)) {
      throw new BackfillRequestError(
        'bucket',
        `"${p.bucket}" is not allowed; allowed: ${[limits.logBucket, ...limits.allowedBuckets].join(', ')}; to replay it, add it to LOG_BUCKETS`,
      );
    }
    bucket = p.bucket;
  }

  let prefix = limits.logPrefix;
  if (p.prefix !== undefined) {
    if (typeof p.prefix !== 'string' || p.prefix.length > 1024) {
      throw new BackfillRequestError('prefix', 'must be a string of at most 1024 characters');
    }
    prefix = p.prefix;
  }

  const force = bool(p, 'force');
  const dryRun = bool(p, 'dryRun');
  const redriveDlq = bool(p, 'redriveDlq');

  let maxObjects: number | undefined;
  if (p.maxObjects !== undefined) {
    if (typeof p.maxObjects !== 'number' || !Number.isSafeInteger(p.maxObjects) || p.maxObjects < 1) {
      throw new BackfillRequestError('maxObjects', `must be a positive integer, got ${JSON.stringify(p.maxObjects)}`);
    }
    maxObjects = p.maxObjects;
  }

  if (redriveDlq) {
    for (const field of ['bucket', 'prefix', 'from', 'to', 'force', 'maxObjects'] as const) {
      if (p[field] !== undefined) {
        throw new BackfillRequestError(field, 'cannot be combined with redriveDlq (a redrive moves every DLQ message)');
      }
    }
    return { bucket, prefix, dryRun, force: false, redriveDlq: true };
  }

  let from: Date | undefined;
  let to: Date | undefined;
  if (p.from !== undefined) from = parseTime('from', p.from);
  if (p.to !== undefined) to = parseTime('to', p.to);
  if (to && !from) throw new BackfillRequestError('from', 'is required when to is given');
  if (from && !to) to = now;
  if (from && to && from.getTime() >= to.getTime()) {
    throw new BackfillRequestError('from', `${from.toISOString()} is not before to (${to.toISOString()})`);
  }
  if (!force) {
    if (!from || !to) {
      throw new BackfillRequestError(
        'from',
        `is required: give a range, or set force to replay the whole prefix "${prefix}"`,
      );
    }
    const days = (to.getTime() - from.getTime()) / DAY_MS;
    if (days > limits.maxRangeDays) {
      throw new BackfillRequestError(
        'to',
        `the range is ${days.toFixed(1)} days, over the maximum of ${limits.maxRangeDays} (BACKFILL_MAX_RANGE_DAYS); set force to run it anyway`,
      );
    }
  }
  return { bucket, prefix, from, to, dryRun, force, maxObjects, redriveDlq: false };
}
