/**
 * S3 writes the request time as `[06/Feb/2019:00:00:38 +0000]` (strftime `%d/%b/%Y:%H:%M:%S %z`).
 * The row carries it as an ISO-8601 UTC instant with the offset applied, so it sorts and compares
 * in SQL without any further conversion.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_NUMBERS = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `Jan` → 0 …, keyed by the three char codes packed in one integer (no substring, no search). */
const MONTH_BY_KEY = new Map<number, number>(
  MONTHS.map((m, i) => [(m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2), i]),
);

/** Length of `06/Feb/2019:00:00:38 +0000`, the text between the brackets. */
export const S3_TIME_LENGTH = 26;

// Consecutive lines of one log object mostly share their second, so the last conversion is reused.
let cachedRaw = '';
let cachedIso = '';

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * Converts the S3 time text at `s[start, end)` (without brackets) into `YYYY-MM-DDTHH:MM:SSZ`.
 * Returns null when it is not a valid S3 time. Reads in place: no substring unless it converts.
 */
export function s3TimeToIso(s: string, start = 0, end = s.length): string | null {
  if (end - start !== S3_TIME_LENGTH) return null;
  // A 26-char slice and === (a memcmp) is cheaper than startsWith(…, position) in V8.
  const raw = start === 0 && end === s.length ? s : s.slice(start, end);
  if (raw === cachedRaw) return cachedIso;
  const a = start;
  if (
    s.charCodeAt(a + 2) !== 47 /* / */ ||
    s.charCodeAt(a + 6) !== 47 ||
    s.charCodeAt(a + 11) !== 58 /* : */ ||
    s.charCodeAt(a + 14) !== 58 ||
    s.charCodeAt(a + 17) !== 58 ||
    s.charCodeAt(a + 20) !== 32 /* space */
  ) {
    return null;
  }
  const day = twoDigits(s, a);
  const m0 = s.charCodeAt(a + 3);
  const m1 = s.charCodeAt(a + 4);
  const m2 = s.charCodeAt(a + 5);
  const month = (m0 | m1 | m2) < 128 ? (MONTH_BY_KEY.get((m0 << 16) | (m1 << 8) | m2) ?? -1) : -1;
  const y1 = twoDigits(s, a + 7);
  const y2 = twoDigits(s, a + 9);
  const hour = twoDigits(s, a + 12);
  const minute = twoDigits(s, a + 15);
  const second = twoDigits(s, a + 18);
  const signChar = s.charCodeAt(a + 21);
  const offH = twoDigits(s, a + 22);
  const offM = twoDigits(s, a + 24);
  if (month < 0 || y1 < 10 || y2 < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return null;
  if (second < 0 || second > 59 || offH < 0 || offH > 23 || offM < 0 || offM > 59) return null;
  if (signChar !== 43 /* + */ && signChar !== 45 /* - */) return null;
  const year = y1 * 100 + y2;
  const maxDay = month === 1 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month]!;
  if (day < 1 || day > maxDay) return null;

  let iso: string;
  if (offH === 0 && offM === 0) {
    iso = `${s.slice(a + 7, a + 11)}-${MONTH_NUMBERS[month]}-${s.slice(a, a + 2)}T${s.slice(a + 12, a + 20)}Z`;
  } else {
    const sign = signChar === 43 ? 1 : -1;
    const ms = Date.UTC(year, month, day, hour, minute, second) - sign * (offH * 60 + offM) * 60_000;
    const text = new Date(ms).toISOString();
    // Years outside 1000..9999 would not keep the fixed-width ISO form.
    if (text.length !== 24 || text.charCodeAt(0) === 48 /* 0xxx */) return null;
    iso = `${text.slice(0, 19)}Z`;
  }
  cachedRaw = raw;
  cachedIso = iso;
  return iso;
}

/** Code-unit twin of twoDigits(). */
function twoDigitsAt(cu: Uint16Array, i: number): number {
  const a = cu[i]! - 48;
  const b = cu[i + 1]! - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

// The parser's caches, compared on code units (no substring). S3 writes +0000, and consecutive
// lines of one log object share their day and minute but mostly not their second: so the day
// (`YYYY-MM-DDT` with the code units it came from) is checked first, then the minute, and the
// ISO text is that minute's prefix plus one of 60 constant `SSZ` strings (one concatenation, no
// substring). Any other offset goes through the whole-text cache of the last time.
const dayCodes = new Uint16Array(S3_TIME_LENGTH);
let dayPrefix: string | null = null;
let minuteH0 = -1;
let minuteH1 = -1;
let minuteM0 = -1;
let minuteM1 = -1;
let minutePrefix = '';
let lastSecond = -1;
let lastSecondIso = '';
const SECONDS_Z = Array.from({ length: 60 }, (_, i) => `${String(i).padStart(2, '0')}Z`);
const lastCodes = new Uint16Array(S3_TIME_LENGTH);
let lastCodesIso: string | null = null;

function sameDay(cu: Uint16Array, a: number): boolean {
  const d = dayCodes;
  for (let k = 0; k < 12; k++) if (cu[a + k] !== d[k]) return false;
  for (let k = 20; k < S3_TIME_LENGTH; k++) if (cu[a + k] !== d[k]) return false;
  return true;
}

/** `HH:MM:SS` at cu[a + 12] within the cached day, or null when it is not a valid clock. */
function clockOfDay(cu: Uint16Array, a: number, s: string): string | null {
  const second = twoDigitsAt(cu, a + 18);
  if (second < 0 || second > 59 || cu[a + 17] !== 58 || cu[a + 14] !== 58) return null;
  if (cu[a + 16] !== minuteM1 || cu[a + 15] !== minuteM0 || cu[a + 13] !== minuteH1 || cu[a + 12] !== minuteH0) {
    const hour = twoDigitsAt(cu, a + 12);
    const minute = twoDigitsAt(cu, a + 15);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return null;
    minutePrefix = `${dayPrefix}${s.slice(a + 12, a + 18)}`;
    minuteH0 = cu[a + 12]!;
    minuteH1 = cu[a + 13]!;
    minuteM0 = cu[a + 15]!;
    minuteM1 = cu[a + 16]!;
    lastSecond = -1;
  }
  if (second === lastSecond) return lastSecondIso;
  lastSecond = second;
  lastSecondIso = minutePrefix + SECONDS_Z[second]!;
  return lastSecondIso;
}

/**
 * s3TimeToIso() for the parser, which already holds the line's UTF-16 code units `cu`; the time
 * text starts at `cu[a]` (after the bracket) and `s` is the line, sliced only on a cache miss.
 */
export function s3TimeCodesToIso(cu: Uint16Array, a: number, s: string): string | null {
  if (dayPrefix !== null && sameDay(cu, a)) return clockOfDay(cu, a, s);
  if (lastCodesIso !== null) {
    let k = S3_TIME_LENGTH - 1;
    while (k >= 0 && cu[a + k] === lastCodes[k]) k--;
    if (k < 0) return lastCodesIso;
  }
  const iso = s3TimeToIso(s, a, a + S3_TIME_LENGTH);
  if (iso === null) return null;
  if (cu[a + 22] === 48 && cu[a + 23] === 48 && cu[a + 24] === 48 && cu[a + 25] === 48) {
    for (let k = 0; k < S3_TIME_LENGTH; k++) dayCodes[k] = cu[a + k]!;
    dayPrefix = iso.slice(0, 11);
    minuteH0 = -1; // the next line of this day rebuilds the minute prefix
  }
  for (let k = 0; k < S3_TIME_LENGTH; k++) lastCodes[k] = cu[a + k]!;
  lastCodesIso = iso;
  return iso;
}

const CANONICAL_ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/;

/**
 * The inverse, for formatLine: an ISO instant → `06/Feb/2019:00:00:38 +0000` (UTC, seconds; S3
 * logs carry no fractions). Throws RangeError on a value that is not a date: rows come from the
 * parser, so that is a programming error, not bad data.
 */
export function isoToS3Time(iso: string): string {
  let m = CANONICAL_ISO.exec(iso);
  if (!m) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) throw new RangeError(`requestdatetime is not an ISO-8601 instant: ${iso}`);
    m = CANONICAL_ISO.exec(d.toISOString());
    if (!m) throw new RangeError(`requestdatetime is out of range: ${iso}`);
  }
  const month = Number(m[2]);
  return `${m[3]}/${MONTHS[month - 1]}/${m[1]}:${m[4]} +0000`;
}
