/**
 * The typed row, column by column, in table order. Names follow the Athena DDL that AWS documents
 * (and the seed quickstart's table), so existing queries keep working on the typed table.
 */
export const COLUMNS = [
  'bucketowner',
  'bucket_name',
  'requestdatetime',
  'remoteip',
  'requester',
  'requestid',
  'operation',
  'key',
  'request_uri',
  'httpstatus',
  'errorcode',
  'bytessent',
  'objectsize',
  'totaltime',
  'turnaroundtime',
  'referrer',
  'useragent',
  'versionid',
  'hostid',
  'sigv',
  'ciphersuite',
  'authtype',
  'endpoint',
  'tlsversion',
  'accesspointarn',
  'aclrequired',
  'sourceregion',
  'extrafields',
] as const;

export type Column = (typeof COLUMNS)[number];

export interface AccessLogRow {
  bucketowner: string;
  bucket_name: string;
  /** ISO-8601 UTC instant, e.g. `2019-02-06T00:00:38Z`. */
  requestdatetime: string;
  remoteip: string | null;
  requester: string | null;
  requestid: string | null;
  operation: string | null;
  /** Raw as logged: still URL-encoded. */
  key: string | null;
  request_uri: string | null;
  httpstatus: number | null;
  errorcode: string | null;
  /** Integers; object sizes go beyond 2^32 but stay below 2^53. */
  bytessent: number | null;
  objectsize: number | null;
  totaltime: number | null;
  turnaroundtime: number | null;
  referrer: string | null;
  useragent: string | null;
  versionid: string | null;
  hostid: string | null;
  sigv: string | null;
  ciphersuite: string | null;
  authtype: string | null;
  endpoint: string | null;
  tlsversion: string | null;
  accesspointarn: string | null;
  /** `Yes` → true, `-` → false, field absent → null. */
  aclrequired: boolean | null;
  sourceregion: string | null;
  /** Fields after the 27th, verbatim, space-separated. */
  extrafields: string | null;
}

export type ParseResult = { ok: true; row: AccessLogRow } | { ok: false; reason: string };

/** One non-blank line of a log object, numbered from 1 as in the file. */
export interface ParsedLine {
  line: number;
  raw: string;
  result: ParseResult;
}
