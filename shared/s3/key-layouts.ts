/**
 * The two object-key formats S3 server access logging writes, and the listing prefixes a time range
 * needs under each.
 *
 * Simple:       [prefix]YYYY-mm-DD-HH-MM-SS-UniqueString
 * Partitioned:  [prefix]SourceAccountId/SourceRegion/SourceBucket/YYYY/MM/DD/YYYY-mm-DD-HH-MM-SS-UniqueString
 *
 * The time in a simple key, and in a partitioned key with PartitionDateSource=DeliveryTime, is the
 * delivery time of the object. With PartitionDateSource=EventTime the key carries the day the events
 * happened and its time is 00-00-00: such an object holds events from that whole UTC day.
 *
 * A third layout comes from CloudWatch Logs vended delivery to S3 (JSON or Parquet records, see
 * docs/formats.md): [prefix]…/YYYY/MM/DD/HH/file, or with Hive-compatible paths
 * […/]year=YYYY/month=MM/day=DD/hour=HH/file, whatever the folders before the date (the delivery's
 * suffix path). Its hour folder is taken to cover one hour of the object's time.
 */

export type KeyLayout = 'simple' | 'partitioned' | 'vended';

export interface ParsedLogKey {
  layout: KeyLayout;
  /** The time written in the key's file name (UTC). */
  time: Date;
  /**
   * True when the file name's time is exactly 00:00:00 in a partitioned key: the EventTime date
   * source writes that, and the object then covers events of the whole day. (A DeliveryTime object
   * delivered at exactly midnight is treated the same way; that only widens the selection.)
   */
  wholeDay: boolean;
  account?: string;
  region?: string;
  sourceBucket?: string;
  /** How long after `time` the object's events may lie (vended: the hour folder); default per wholeDay. */
  spanMs?: number;
}

const DAY_MS = 86_400_000;

// Date-time and a unique string of letters/digits; the unique string never holds a '/'.
const FILE_NAME = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-([A-Za-z0-9]+)$/;
const PARTITIONED = /^(\d{12})\/([a-z0-9-]+)\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+)$/;

function utc(y: string, mo: string, d: string, h = '00', mi = '00', s = '00'): Date | null {
  const t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  const date = new Date(t);
  // Reject 2026-02-30 and 25:61:61: Date.UTC would silently roll them over.
  if (
    date.getUTCFullYear() !== +y ||
    date.getUTCMonth() !== +mo - 1 ||
    date.getUTCDate() !== +d ||
    date.getUTCHours() !== +h ||
    date.getUTCMinutes() !== +mi ||
    date.getUTCSeconds() !== +s
  ) {
    return null;
  }
  return date;
}

/**
 * Parses a log object key written under `prefix`. Returns null for keys that are not server access
 * log objects in either format (a stray file, a folder marker, another prefix).
 */
export function parseLogKey(key: string, prefix = ''): ParsedLogKey | null {
  if (!key.startsWith(prefix)) return null;
  const rest = key.slice(prefix.length);

  const simple = FILE_NAME.exec(rest);
  if (simple) {
    const [, y, mo, d, h, mi, s] = simple as unknown as string[];
    const time = utc(y!, mo!, d!, h!, mi!, s!);
    return time ? { layout: 'simple', time, wholeDay: false } : null;
  }

  const part = PARTITIONED.exec(rest);
  if (!part) return parseVendedKey(rest);
  const [, account, region, sourceBucket, py, pm, pd, fileName] = part as unknown as string[];
  const file = FILE_NAME.exec(fileName!);
  if (!file) return null;
  const [, y, mo, d, h, mi, s] = file as unknown as string[];
  const time = utc(y!, mo!, d!, h!, mi!, s!);
  // The partition folders and the file name must name the same day.
  if (!time || py !== y || pm !== mo || pd !== d) return null;
  return {
    layout: 'partitioned',
    time,
    wholeDay: h === '00' && mi === '00' && s === '00',
    account: account!,
    region: region!,
    sourceBucket: sourceBucket!,
  };
}

/** Half-open UTC instant range [from, to). */
export interface TimeRange {
  from: Date;
  to: Date;
}

/**
 * Whether the object may hold events inside `range`: its key time (or, for whole-day EventTime
 * partitions, its day) falls inside the range. The caller pads the range for delivery latency.
 */
export function keyInRange(parsed: ParsedLogKey, range: TimeRange): boolean {
  const start = parsed.time.getTime();
  const end = start + (parsed.spanMs ?? (parsed.wholeDay ? DAY_MS : 1));
  return start < range.to.getTime() && end > range.from.getTime();
}

const pad2 = (n: number) => String(n).padStart(2, '0');

type Unit =
  | { kind: 'year'; y: number }
  | { kind: 'month'; y: number; m: number }
  | { kind: 'day'; y: number; m: number; d: number };

/**
 * The fewest calendar units (whole years, whole months, days) that cover every UTC day the range
 * touches. A unit is only used whole when the range covers all of it, so nothing outside the
 * range's days is listed.
 */
function calendarUnits(range: TimeRange): Unit[] {
  if (range.to.getTime() <= range.from.getTime()) return [];
  const firstDay = Math.floor(range.from.getTime() / DAY_MS) * DAY_MS;
  const lastDay = Math.floor((range.to.getTime() - 1) / DAY_MS) * DAY_MS;
  const units: Unit[] = [];
  let day = firstDay;
  while (day <= lastDay) {
    const d = new Date(day);
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth();
    const yearEnd = Date.UTC(y + 1, 0, 1) - DAY_MS;
    const monthEnd = Date.UTC(y, m + 1, 1) - DAY_MS;
    if (m === 0 && d.getUTCDate() === 1 && yearEnd <= lastDay) {
      units.push({ kind: 'year', y });
      day = yearEnd + DAY_MS;
    } else if (d.getUTCDate() === 1 && monthEnd <= lastDay) {
      units.push({ kind: 'month', y, m: m + 1 });
      day = monthEnd + DAY_MS;
    } else {
      units.push({ kind: 'day', y, m: m + 1, d: d.getUTCDate() });
      day += DAY_MS;
    }
  }
  return units;
}

/** Listing prefixes for simple-layout keys under `prefix`: `prefixYYYY-`, `prefixYYYY-mm-`, `prefixYYYY-mm-DD-`. */
export function simpleListingPrefixes(prefix: string, range: TimeRange): string[] {
  return calendarUnits(range).map((u) =>
    u.kind === 'year'
      ? `${prefix}${u.y}-`
      : u.kind === 'month'
        ? `${prefix}${u.y}-${pad2(u.m)}-`
        : `${prefix}${u.y}-${pad2(u.m)}-${pad2(u.d)}-`,
  );
}

/**
 * Listing prefixes for partitioned keys under one source root
 * (`prefix` + `account/region/bucket/`): `rootYYYY/`, `rootYYYY/MM/`, `rootYYYY/MM/DD/`.
 */
export function partitionedListingPrefixes(root: string, range: TimeRange): string[] {
  return calendarUnits(range).map((u) =>
    u.kind === 'year'
      ? `${root}${u.y}/`
      : u.kind === 'month'
        ? `${root}${u.y}/${pad2(u.m)}/`
        : `${root}${u.y}/${pad2(u.m)}/${pad2(u.d)}/`,
  );
}

/** Simple-layout keys of one year start with `prefixYYYY-`; used to skip over them while discovering partition roots. */
export const SIMPLE_YEAR = /^(\d{4})-/;
/** A partitioned root's first level: a 12-digit account id folder. */
export const ACCOUNT_FOLDER = /^\d{12}\/$/;

const HOUR_MS = 3_600_000;
const VENDED = /^(?:[^/]+\/)*?(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/;
const VENDED_HIVE = /^(?:[^/]+\/)*?year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\/[^/]+$/;

/** A vended-delivery key (relative to the prefix): the hour its date folders name. */
function parseVendedKey(rest: string): ParsedLogKey | null {
  const m = VENDED_HIVE.exec(rest) ?? VENDED.exec(rest);
  if (!m) return null;
  const time = utc(m[1]!, m[2]!, m[3]!, m[4]!);
  return time ? { layout: 'vended', time, wholeDay: false, spanMs: HOUR_MS } : null;
}

/** A vended root's year folder: `YYYY/` or, with Hive-compatible paths, `year=YYYY/`. */
export const VENDED_YEAR_FOLDER = /^(year=)?\d{4}\/$/;

/**
 * Listing prefixes for vended keys under one root (the folder holding the year folders), in its
 * folder style: `rootYYYY/MM/DD/` or `rootyear=YYYY/month=MM/day=DD/` and their year/month forms.
 */
export function vendedListingPrefixes(root: string, hive: boolean, range: TimeRange): string[] {
  if (!hive) return partitionedListingPrefixes(root, range);
  return calendarUnits(range).map((u) =>
    u.kind === 'year'
      ? `${root}year=${u.y}/`
      : u.kind === 'month'
        ? `${root}year=${u.y}/month=${pad2(u.m)}/`
        : `${root}year=${u.y}/month=${pad2(u.m)}/day=${pad2(u.d)}/`,
  );
}
