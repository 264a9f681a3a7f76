/**
 * One record of S3 server access logs vended through CloudWatch Logs (a JSON object, from an NDJSON
 * line or a Parquet row) → the same typed row the text parser produces, or a reject.
 *
 * Field names: AWS S3 User Guide, "Log format in CloudWatch Logs" (sal-cw-log-format). The names
 * from `schema_version_id` to `http_status` were read there; the rest follow the same snake_case
 * naming of the text format's fields and could not be checked against the page (see
 * docs/formats.md). A field this table does not know is never dropped: it goes to `extrafields`.
 */
import type { AccessLogRow, ParseResult } from '../columns.ts';

/** Schema versions whose fields this mapping was written for. */
export const KNOWN_SCHEMA_VERSIONS: ReadonlySet<string> = new Set(['V_1_0']);

type Kind = 'string' | 'int' | 'bool';

/** JSON field → column, in table order. `request_time` and the bucket fields are handled apart. */
export const FIELD_COLUMNS = [
  ['bucket_owner_id', 'bucketowner', 'string'],
  ['bucket_name', 'bucket_name', 'string'],
  ['request_time', 'requestdatetime', 'string'],
  ['remote_ip', 'remoteip', 'string'],
  ['requester', 'requester', 'string'],
  ['request_id', 'requestid', 'string'],
  ['operation', 'operation', 'string'],
  ['key_name', 'key', 'string'],
  ['request_uri', 'request_uri', 'string'],
  ['http_status', 'httpstatus', 'int'],
  ['error_code', 'errorcode', 'string'],
  ['bytes_sent', 'bytessent', 'int'],
  ['object_size', 'objectsize', 'int'],
  ['total_time', 'totaltime', 'int'],
  ['turn_around_time', 'turnaroundtime', 'int'],
  ['referrer', 'referrer', 'string'],
  ['user_agent', 'useragent', 'string'],
  ['version_id', 'versionid', 'string'],
  ['host_id', 'hostid', 'string'],
  ['signature_version', 'sigv', 'string'],
  ['cipher_suite', 'ciphersuite', 'string'],
  ['authentication_type', 'authtype', 'string'],
  ['host_header', 'endpoint', 'string'],
  ['tls_version', 'tlsversion', 'string'],
  ['access_point_arn', 'accesspointarn', 'string'],
  ['acl_required', 'aclrequired', 'bool'],
  ['source_region', 'sourceregion', 'string'],
] as const satisfies ReadonlyArray<readonly [string, keyof AccessLogRow, Kind]>;

const BY_FIELD = new Map<string, readonly [string, keyof AccessLogRow, Kind]>(FIELD_COLUMNS.map((f) => [f[0], f]));
/** Fields that have no column but are consumed: the schema version and the bucket ARN (when it names bucket_name). */
const SCHEMA_VERSION = 'schema_version_id';
const BUCKET_ARN = 'bucket_arn';

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `request_time` → ISO-8601 UTC with milliseconds (`2026-11-18T02:20:38.123Z`). Accepts a Date
 * (Parquet TIMESTAMP columns), an ISO string with any offset, or epoch milliseconds.
 */
export function recordTime(v: unknown): string | null {
  let ms: number;
  if (v instanceof Date) ms = v.getTime();
  else if (typeof v === 'number' || typeof v === 'bigint') ms = Number(v);
  else if (typeof v === 'string') {
    const m = ISO.exec(v);
    if (!m) return null;
    ms = Date.parse(v);
    // Date.parse rolls 2026-02-30 over to March: the calendar fields must survive a round trip.
    const back = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    if (back.getUTCMonth() !== +m[2]! - 1 || back.getUTCDate() !== +m[3]! || back.getUTCHours() !== +m[4]!) return null;
    if (back.getUTCMinutes() !== +m[5]! || back.getUTCSeconds() !== +m[6]!) return null;
  } else return null;
  if (!Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function intValue(v: unknown): number | null | undefined {
  if (v === null || v === undefined || v === '-') return null;
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v === 'string' && /^\d{1,16}$/.test(v)) v = Number(v);
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function boolValue(v: unknown): boolean | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v;
  if (v === 'Yes' || v === 'true') return true;
  if (v === '-' || v === 'No' || v === 'false' || v === '') return false;
  return undefined;
}

function stringValue(v: unknown): string | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

const reject = (reason: string): ParseResult => ({ ok: false, reason });

/** JSON.stringify that survives BigInt (Parquet INT64 values of fields we do not know). */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x));
}

export interface MappedRecord {
  result: ParseResult;
  /** The record's schema_version_id when it is not one of KNOWN_SCHEMA_VERSIONS (still loaded). */
  unknownVersion?: string;
}

function emptyRow(): AccessLogRow {
  const row = {} as Record<keyof AccessLogRow, unknown>;
  for (const [, column] of FIELD_COLUMNS) row[column] = null;
  row.extrafields = null;
  return row as AccessLogRow;
}

/** Maps one decoded record; never throws. */
export function mapRecord(record: unknown): MappedRecord {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return { result: reject('not_a_record') };
  // A CloudWatch Logs subscription (e.g. log group → Firehose → S3) wraps records in envelopes:
  // not supported (docs/formats.md); the envelope is kept as a reject so nothing is lost silently.
  if (Array.isArray((record as { logEvents?: unknown }).logEvents) && 'messageType' in record)
    return { result: reject('unsupported_envelope:cloudwatch_logs_subscription') };
  const row = emptyRow() as unknown as Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  let extraCount = 0;
  let version: unknown;
  let arn: unknown;
  for (const [field, value] of Object.entries(record as Record<string, unknown>)) {
    if (field === SCHEMA_VERSION) {
      version = value;
      continue;
    }
    if (field === BUCKET_ARN) {
      arn = value;
      continue;
    }
    const spec = BY_FIELD.get(field);
    if (!spec) {
      extra[field] = value;
      extraCount++;
      continue;
    }
    const [, column, kind] = spec;
    if (column === 'requestdatetime') {
      row[column] = value;
      continue;
    }
    const v = kind === 'int' ? intValue(value) : kind === 'bool' ? boolValue(value) : stringValue(value);
    if (v === undefined) return { result: reject(kind === 'int' ? `bad_number:${column}` : `bad_field:${field}`) };
    row[column] = v;
  }
  if (row.bucket_name === null && typeof arn === 'string' && arn.startsWith('arn:'))
    row.bucket_name = arn.slice(arn.lastIndexOf(':') + 1) || null;
  // The ARN is redundant when it names the same bucket; otherwise keep it rather than lose it.
  if (arn !== undefined && arn !== null && !(typeof arn === 'string' && arn.endsWith(`:${String(row.bucket_name)}`))) {
    extra[BUCKET_ARN] = arn;
    extraCount++;
  }
  if (row.requestdatetime === null || row.requestdatetime === undefined)
    return { result: reject('missing_field:request_time') };
  const time = recordTime(row.requestdatetime);
  if (time === null) return { result: reject('bad_time') };
  row.requestdatetime = time;
  if (row.bucketowner === null) return { result: reject('missing_field:bucket_owner_id') };
  if (row.bucket_name === null) return { result: reject('missing_field:bucket_name') };
  const known = typeof version === 'string' && KNOWN_SCHEMA_VERSIONS.has(version);
  if (!known && version !== undefined) {
    extra[SCHEMA_VERSION] = version;
    extraCount++;
  }
  if (extraCount > 0) row.extrafields = toJson(extra);
  const out: MappedRecord = { result: { ok: true, row: row as unknown as AccessLogRow } };
  if (!known) out.unknownVersion = version === undefined ? '(absent)' : String(version);
  return out;
}
