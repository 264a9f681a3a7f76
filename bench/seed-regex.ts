/**
 * The seed quickstart's UDTF regex (`../shared/seed/seed_udtf.py`), ported to JavaScript as is,
 * with the same typing as parseLine (ISO time, integers, nulls), so the benchmark compares the
 * tokenizers and not the typing. Used only as the benchmark baseline: it drops lines with raw
 * quotes, requesters with spaces and 17-field lines (see test/parity/seed-udtf.test.ts).
 */
import { s3TimeToIso, type AccessLogRow } from '../shared/access-log/index.ts';

// Unanchored like Python's re.findall(pattern, log, re.M): it searches the line.
const SEED_PATTERN =
  /([^ ]*) ([^ ]*) \[(.*?)\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) (-|[0-9]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) ([^ ]*)(?: ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*))?.*$/m;

/** The seed's clean(): strip spaces and quotes at both ends (str.strip(' " " ')), `-` → null. */
function clean(v: string | undefined): string | null {
  if (v === undefined) return null;
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 34)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 34)) b--;
  const s = a === 0 && b === v.length ? v : v.slice(a, b);
  return s === '-' || s === '' ? null : s;
}

function integer(v: string | null): number | null | undefined {
  if (v === null) return null;
  if (!/^\d{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  return n > Number.MAX_SAFE_INTEGER ? undefined : n;
}

/** null when the seed regex does not match (the seed drops the line) or the typing fails. */
export function seedRegexParse(line: string): AccessLogRow | null {
  const m = SEED_PATTERN.exec(line);
  if (m === null) return null;
  const time = clean(m[3]);
  const requestdatetime = time === null ? null : s3TimeToIso(time);
  const httpstatus = integer(clean(m[10]));
  const bytessent = integer(clean(m[12]));
  const objectsize = integer(clean(m[13]));
  const totaltime = integer(clean(m[14]));
  const turnaroundtime = integer(clean(m[15]));
  if (
    requestdatetime === null ||
    httpstatus === undefined ||
    bytessent === undefined ||
    objectsize === undefined ||
    totaltime === undefined ||
    turnaroundtime === undefined
  ) {
    return null;
  }
  return {
    bucketowner: clean(m[1]) ?? '',
    bucket_name: clean(m[2]) ?? '',
    requestdatetime,
    remoteip: clean(m[4]),
    requester: clean(m[5]),
    requestid: clean(m[6]),
    operation: clean(m[7]),
    key: clean(m[8]),
    request_uri: clean(m[9]),
    httpstatus,
    errorcode: clean(m[11]),
    bytessent,
    objectsize,
    totaltime,
    turnaroundtime,
    referrer: clean(m[16]),
    useragent: clean(m[17]),
    versionid: clean(m[18]),
    hostid: clean(m[19]),
    sigv: clean(m[20]),
    ciphersuite: clean(m[21]),
    authtype: clean(m[22]),
    endpoint: clean(m[23]),
    tlsversion: clean(m[24]),
    accesspointarn: null,
    aclrequired: null,
    sourceregion: null,
    extrafields: null,
  };
}
