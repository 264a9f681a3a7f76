/**
 * A row → the line S3 would have written for it. Used by the sample-log generator and by the
 * round-trip tests: parseLine(formatLine(row)) equals row for every row the parser can produce
 * from a well-formed line.
 */
import type { AccessLogRow } from './columns.ts';
import { isoToS3Time } from './time.ts';

const dash = (v: string | number | null): string => (v === null ? '-' : String(v));
const quoted = (v: string | null): string => (v === null ? '"-"' : `"${v}"`);

export function formatLine(row: AccessLogRow): string {
  let line =
    `${row.bucketowner} ${row.bucket_name} [${isoToS3Time(row.requestdatetime)}] ` +
    `${dash(row.remoteip)} ${dash(row.requester)} ${dash(row.requestid)} ${dash(row.operation)} ` +
    `${dash(row.key)} ${quoted(row.request_uri)} ${dash(row.httpstatus)} ${dash(row.errorcode)} ` +
    `${dash(row.bytessent)} ${dash(row.objectsize)} ${dash(row.totaltime)} ${dash(row.turnaroundtime)} ` +
    `${quoted(row.referrer)} ${quoted(row.useragent)}`;

  // Write as many trailing fields as the row needs: S3 has added them over the years (18, 24,
  // 25, 26, 27 fields), and aclrequired distinguishes "absent" (null) from `-` (false).
  const trailing: Array<string | null> = [
    row.versionid,
    row.hostid,
    row.sigv,
    row.ciphersuite,
    row.authtype,
    row.endpoint,
    row.tlsversion,
    row.accesspointarn,
  ];
  let count = 1; // S3 has always written the Version Id (18 fields)
  for (let f = trailing.length; f > 0; f--) {
    if (trailing[f - 1] !== null) {
      count = Math.max(count, f);
      break;
    }
  }
  if (row.aclrequired !== null || row.sourceregion !== null || row.extrafields !== null) count = 10;
  for (let f = 0; f < Math.min(count, 8); f++) line += ` ${dash(trailing[f]!)}`;
  if (count === 10) {
    line += row.aclrequired === true ? ' Yes' : ' -';
    if (row.sourceregion !== null || row.extrafields !== null) line += ` ${dash(row.sourceregion)}`;
    if (row.extrafields !== null) line += ` ${row.extrafields}`;
  }
  return line;
}
