/**
 * One S3 server access log line → a typed row, or a reject with a short machine reason.
 *
 * The format is space-separated, but three things defeat a naive split or a single regex:
 *  - quoted fields (Request-URI, Referer, User-Agent) are never escaped by S3, so they can hold
 *    `"` and spaces: each one is delimited by what must follow it, not by the next quote;
 *  - the requester can contain spaces (`…:user/CloudFront Origin Access Identity E1ABC`), so the
 *    head is re-anchored on the operation (`REST.GET.OBJECT`, `S3.COMPUTE.OBJECT.CHECKSUM`, …);
 *  - lines carry 17 to 27+ fields depending on when they were written.
 * Runs of spaces outside quoted fields count as one separator (real lines with a double space
 * between remote IP and requester exist), and trailing whitespace is ignored.
 *
 * The hot path walks the string with indexOf/charCodeAt and slices each field once; it never
 * throws (bad data is a value) and allocates nothing for rejects with a fixed reason.
 */
import type { AccessLogRow, ParseResult } from './columns.ts';
import { S3_TIME_LENGTH, s3TimeCodesToIso } from './time.ts';

/** Every reject reason (parseLine's, and readLogLines' for lines and gzip streams), so consumers can group rejects. */
export const REJECT_REASONS = [
  'too_few_fields',
  'line_too_long',
  'truncated_gzip',
  'corrupt_gzip',
  'bad_time',
  'bad_request_uri',
  'bad_referrer',
  'bad_useragent',
  'bad_number:httpstatus',
  'bad_number:bytessent',
  'bad_number:objectsize',
  'bad_number:totaltime',
  'bad_number:turnaroundtime',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

const reject = (reason: RejectReason): ParseResult => Object.freeze({ ok: false, reason }) as ParseResult;
const TOO_FEW = reject('too_few_fields');
const BAD_TIME = reject('bad_time');
const BAD_URI = reject('bad_request_uri');
const BAD_REFERRER = reject('bad_referrer');
const BAD_UA = reject('bad_useragent');
const BAD_NUMBER = [
  reject('bad_number:httpstatus'),
  reject('bad_number:bytessent'),
  reject('bad_number:objectsize'),
  reject('bad_number:totaltime'),
  reject('bad_number:turnaroundtime'),
];

const SP = 32;
const DQ = 34;
const DASH = 45;
const DOT = 46;
const LBRACKET = 91;

/** How many tokens after the remote IP are searched for the operation (requesters with spaces). */
const MAX_HEAD_TOKENS = 48;

/**
 * The line's UTF-16 code units, copied once per line into a reused buffer: reading a typed array
 * is several times cheaper than charCodeAt on the sliced strings that line splitting produces.
 * Four zero code units after the line stand in for "past the end".
 */
let scratch = Buffer.allocUnsafeSlow(2 * 4096);
let codes = new Uint16Array(scratch.buffer, scratch.byteOffset, 4096);
function loadCodes(s: string): void {
  if (s.length + 4 > codes.length) {
    const size = Math.max(s.length + 4, codes.length * 2);
    scratch = Buffer.allocUnsafeSlow(2 * size);
    codes = new Uint16Array(scratch.buffer, scratch.byteOffset, size);
  }
  if (s.length > 0) scratch.write(s, 0, 'utf16le');
  const n = s.length;
  codes[n] = 0;
  codes[n + 1] = 0;
  codes[n + 2] = 0;
  codes[n + 3] = 0;
}
const headStart = new Int32Array(MAX_HEAD_TOKENS);
const headEnd = new Int32Array(MAX_HEAD_TOKENS);

// Results of parseMiddle(), kept in module scope so the hot path allocates no tuple.
let midStatus = 0;
let midErrA = 0;
let midErrB = 0;
let midBytes = 0;
let midObject = 0;
let midTotal = 0;
let midTurn = 0;
let midNext = 0;

function skipSpaces(i: number, n: number): number {
  const cu = codes;
  while (i < n && cu[i]! === SP) i++;
  return i;
}

function tokenEnd(s: string, i: number, n: number): number {
  const j = s.indexOf(' ', i);
  return j === -1 || j > n ? n : j;
}

/** `-` → null, otherwise the text. */
function text(s: string, a: number, b: number): string | null {
  const cu = codes;
  return b - a === 1 && cu[a]! === DASH ? null : s.slice(a, b);
}

/** `REST.GET.OBJECT`, `S3.COMPUTE.OBJECT.CHECKSUM`: upper-case words, digits, `_`, two+ dots. */
function isOperation(a: number, b: number): boolean {
  const cu = codes;
  const c0 = cu[a]!;
  if (c0 < 65 || c0 > 90) return false;
  let dots = 0;
  let prevDot = false;
  for (let i = a + 1; i < b; i++) {
    const c = cu[i]!;
    if (c === DOT) {
      if (prevDot) return false;
      dots++;
      prevDot = true;
    } else if ((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95) {
      prevDot = false;
    } else {
      return false;
    }
  }
  return dots >= 2 && !prevDot;
}

/**
 * From just after the Request-URI: status, error code and the four numbers. Returns null when
 * they fit (results in the mid* variables), else the reject.
 */
function parseMiddle(s: string, i: number, n: number): ParseResult | null {
  const cu = codes;
  if (i < n && cu[i]! !== SP) return BAD_URI;
  let a = skipSpaces(i, n);
  for (let f = 0; f < 6; f++) {
    if (a >= n) return TOO_FEW;
    let b: number;
    if (f === 1) {
      b = tokenEnd(s, a, n);
      midErrA = a;
      midErrB = b;
    } else {
      // The number is read while its end is found: no separate scan.
      let v = 0;
      b = a;
      if (cu[a] === DASH && (a + 1 === n || cu[a + 1] === SP)) {
        v = -1;
        b = a + 1;
      } else {
        while (b < n) {
          const d = cu[b]! - 48;
          if (d < 0 || d > 9) break;
          v = v * 10 + d;
          b++;
        }
        if (b === a || b - a > 16 || (b < n && cu[b] !== SP) || v > Number.MAX_SAFE_INTEGER) {
          return BAD_NUMBER[f === 0 ? 0 : f - 1]!;
        }
      }
      if (f === 0) midStatus = v;
      else if (f === 2) midBytes = v;
      else if (f === 3) midObject = v;
      else if (f === 4) midTotal = v;
      else midTurn = v;
    }
    a = skipSpaces(b, n);
  }
  midNext = a;
  return null;
}

const nullable = (v: number): number | null => (v < 0 ? null : v);

// One function on purpose (the ~80-line rule's one exception): the per-line hot loop, whose speed `npm run bench:parse` measures.
export function parseLine(line: string): ParseResult {
  const s = line;
  loadCodes(s);
  const cu = codes;
  let n = s.length;
  while (n > 0) {
    const c = cu[n - 1]!;
    if (c === SP || c === 9 || c === 10 || c === 13) n--;
    else break;
  }

  // Bucket owner, bucket, [time].
  let i = skipSpaces(0, n);
  if (i >= n) return TOO_FEW;
  const ownerA = i;
  const ownerB = tokenEnd(s, i, n);
  i = skipSpaces(ownerB, n);
  if (i >= n) return TOO_FEW;
  const bucketA = i;
  const bucketB = tokenEnd(s, i, n);
  i = skipSpaces(bucketB, n);
  if (i >= n) return TOO_FEW;
  if (cu[i]! !== LBRACKET) return BAD_TIME;
  // S3 times are 26 characters, so the bracket is nearly always right there. When an earlier `]`
  // exists, it lies inside those 26 characters, which then fail the time check: bad_time either way.
  const close = i + 27 < n && cu[i + 27]! === 93 /* ] */ ? i + 27 : s.indexOf(']', i);
  if (close === -1 || close >= n) return close === -1 && n - i < 28 ? TOO_FEW : BAD_TIME;
  const time = close - i - 1 === S3_TIME_LENGTH ? s3TimeCodesToIso(cu, i + 1, s) : null;
  if (time === null) return BAD_TIME;
  if (close + 1 < n && cu[close + 1]! !== SP) return BAD_TIME;
  i = skipSpaces(close + 1, n);

  // Remote IP, requester (may hold spaces), request ID, operation: anchored on the operation.
  let count = 0;
  let op = -1;
  while (count < MAX_HEAD_TOKENS && i < n) {
    if (count >= 3 && cu[i]! === DQ) break; // reached the Request-URI
    const e = tokenEnd(s, i, n);
    headStart[count] = i;
    headEnd[count] = e;
    if (count >= 3 && isOperation(i, e)) {
      op = count;
      break;
    }
    count++;
    i = skipSpaces(e, n);
  }
  if (op === -1) {
    // No operation-shaped token: fall back to the positions of the common case (a future
    // operation name in another shape still parses when the requester has no spaces).
    if (count < 4) return TOO_FEW;
    op = 3;
  }
  const remoteip = text(s, headStart[0]!, headEnd[0]!);
  const requester = text(s, headStart[1]!, headEnd[op - 2]!);
  const requestid = text(s, headStart[op - 1]!, headEnd[op - 1]!);
  const operation = text(s, headStart[op]!, headEnd[op]!);
  i = skipSpaces(headEnd[op]!, n);
  if (i >= n) return TOO_FEW;
  const keyA = i;
  const keyB = tokenEnd(s, i, n);
  i = skipSpaces(keyB, n);
  if (i >= n) return TOO_FEW;

  // Request-URI: `-`, `"-"`, or a quoted request line ending in ` HTTP/x.y"`.
  let uriA = -1;
  let uriB = -1;
  const c = cu[i]!;
  if (c === DASH && (i + 1 === n || cu[i + 1]! === SP)) {
    const r = parseMiddle(s, i + 1, n);
    if (r !== null) return r;
  } else if (c === DQ) {
    if (cu[i + 1]! === DASH && cu[i + 2]! === DQ && (i + 3 === n || cu[i + 3]! === SP)) {
      const r = parseMiddle(s, i + 3, n);
      if (r !== null) return r;
    } else {
      const r = quotedRequestUri(s, i, n);
      if (r !== null) return r;
      uriA = i + 1;
      uriB = quoteEnd;
    }
  } else {
    return BAD_URI;
  }

  // Referer: quoted (ends at `"` + space + what can start the User-Agent) or `-`.
  i = midNext;
  if (i >= n) return TOO_FEW;
  let refA = -1;
  let refB = -1;
  let ch = cu[i]!;
  if (ch === DQ) {
    let j = i + 1;
    for (;;) {
      j = s.indexOf('"', j);
      if (j === -1 || j >= n) return TOO_FEW;
      if (cu[j + 1]! === SP) {
        const k = skipSpaces(j + 1, n);
        const nk = cu[k]!;
        if (nk === DQ || (nk === DASH && (k + 1 === n || cu[k + 1]! === SP))) break;
      }
      j++;
    }
    refA = i + 1;
    refB = j;
    i = skipSpaces(j + 1, n);
  } else if (ch === DASH && (i + 1 === n || cu[i + 1]! === SP)) {
    i = skipSpaces(i + 1, n);
  } else {
    return BAD_REFERRER;
  }

  // User-Agent: quoted (ends at the last quote of the line: no later field holds one) or `-`.
  if (i >= n) return TOO_FEW;
  let uaA = -1;
  let uaB = -1;
  ch = cu[i]!;
  if (ch === DQ) {
    // The last quote before n, found forwards: V8's lastIndexOf is a plain C++ loop (~300 ns a
    // line here), while indexOf is a fast memchr and the User-Agent usually holds no other quote.
    let j = i;
    for (;;) {
      const k = s.indexOf('"', j + 1);
      if (k === -1 || k >= n) break;
      j = k;
    }
    if (j <= i || !(j + 1 === n || cu[j + 1]! === SP)) {
      // A later field holding a quote: fall back to the first quote that ends a field.
      j = i + 1;
      for (;;) {
        j = s.indexOf('"', j);
        if (j === -1 || j >= n) return TOO_FEW;
        if (j + 1 === n || cu[j + 1]! === SP) break;
        j++;
      }
    }
    uaA = i + 1;
    uaB = j;
    i = j + 1;
  } else if (ch === DASH && (i + 1 === n || cu[i + 1]! === SP)) {
    i = i + 1;
  } else {
    return BAD_UA;
  }

  // Fields 18..27 by position, then anything further verbatim.
  let versionid: string | null = null;
  let hostid: string | null = null;
  let sigv: string | null = null;
  let ciphersuite: string | null = null;
  let authtype: string | null = null;
  let endpoint: string | null = null;
  let tlsversion: string | null = null;
  let accesspointarn: string | null = null;
  let aclrequired: boolean | null = null;
  let sourceregion: string | null = null;
  let extrafields: string | null = null;
  i = skipSpaces(i, n);
  for (let f = 0; f < 10 && i < n; f++) {
    const e = cu[i] === DASH && (i + 1 === n || cu[i + 1] === SP) ? i + 1 : tokenEnd(s, i, n);
    switch (f) {
      case 0:
        versionid = text(s, i, e);
        break;
      case 1:
        hostid = text(s, i, e);
        break;
      case 2:
        sigv = text(s, i, e);
        break;
      case 3:
        ciphersuite = text(s, i, e);
        break;
      case 4:
        authtype = text(s, i, e);
        break;
      case 5:
        endpoint = text(s, i, e);
        break;
      case 6:
        tlsversion = text(s, i, e);
        break;
      case 7:
        accesspointarn = text(s, i, e);
        break;
      case 8:
        // `Yes` → true, `-` → false; an undocumented value is unknown (null), not a reject.
        if (e - i === 1 && cu[i]! === DASH) aclrequired = false;
        else if (e - i === 3 && s.startsWith('Yes', i)) aclrequired = true;
        break;
      default:
        sourceregion = text(s, i, e);
    }
    i = skipSpaces(e, n);
  }
  if (i < n) extrafields = text(s, i, n);

  const row: AccessLogRow = {
    bucketowner: s.slice(ownerA, ownerB),
    bucket_name: s.slice(bucketA, bucketB),
    requestdatetime: time,
    remoteip,
    requester,
    requestid,
    operation,
    key: text(s, keyA, keyB),
    request_uri: uriA < 0 ? null : text(s, uriA, uriB),
    httpstatus: nullable(midStatus),
    errorcode: text(s, midErrA, midErrB),
    bytessent: nullable(midBytes),
    objectsize: nullable(midObject),
    totaltime: nullable(midTotal),
    turnaroundtime: nullable(midTurn),
    referrer: refA < 0 ? null : text(s, refA, refB),
    useragent: uaA < 0 ? null : text(s, uaA, uaB),
    versionid,
    hostid,
    sigv,
    ciphersuite,
    authtype,
    endpoint,
    tlsversion,
    accesspointarn,
    aclrequired,
    sourceregion,
    extrafields,
  };
  return { ok: true, row };
}

/** Where quotedRequestUri() found the closing quote. */
let quoteEnd = 0;

/**
 * A quoted Request-URI starting at `s[i] === '"'`. It may contain raw quotes (S3 does not
 * escape them), so it ends at ` HTTP/x.y"` followed by fields that fit status, error code and
 * numbers; failing that, at the first quote after which they fit. Sets quoteEnd and the mid*
 * variables; returns null on success or the most telling reject.
 */
function quotedRequestUri(s: string, i: number, n: number): ParseResult | null {
  const cu = codes;
  // Fast path, the usual line: the first quote closes the request line, right after HTTP/x.y.
  const first = s.indexOf('"', i + 1);
  if (first !== -1 && first < n && (first + 1 === n || cu[first + 1] === SP)) {
    let k = first - 1;
    while (k > i && ((cu[k]! >= 48 && cu[k]! <= 57) || cu[k] === DOT)) k--;
    if (
      k < first - 1 &&
      k - 5 > i &&
      cu[k] === 47 /* / */ &&
      cu[k - 1] === 80 /* P */ &&
      cu[k - 2] === 84 /* T */ &&
      cu[k - 3] === 84 /* T */ &&
      cu[k - 4] === 72 /* H */ &&
      cu[k - 5] === SP &&
      parseMiddle(s, first + 1, n) === null
    ) {
      quoteEnd = first;
      return null;
    }
  }
  let firstError: ParseResult | null = null;
  let from = i + 1;
  for (;;) {
    const h = s.indexOf(' HTTP/', from);
    if (h === -1 || h >= n) break;
    let q = h + 6;
    while (q < n) {
      const d = cu[q]!;
      if ((d >= 48 && d <= 57) || d === DOT) q++;
      else break;
    }
    if (q > h + 6 && cu[q]! === DQ) {
      const r = parseMiddle(s, q + 1, n);
      if (r === null) {
        quoteEnd = q;
        return null;
      }
      firstError ??= r;
    }
    from = h + 1;
  }
  // No HTTP version (or none that fits): the first quote followed by fields that fit.
  let j = i + 1;
  for (;;) {
    j = s.indexOf('"', j);
    if (j === -1 || j >= n) break;
    if (j + 1 === n || cu[j + 1]! === SP) {
      const r = parseMiddle(s, j + 1, n);
      if (r === null) {
        quoteEnd = j;
        return null;
      }
      firstError ??= r;
    }
    j++;
  }
  return firstError ?? TOO_FEW;
}
