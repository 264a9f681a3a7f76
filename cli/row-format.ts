/**
 * A parsed row as one NDJSON or CSV line, plus the `logkey` and `logline` columns. Built by direct
 * string concatenation: JSON.stringify of the row (and the spliced copy it needed) was about a
 * third of `parse`'s time, and the row's values rarely need escaping: every string in it is a piece
 * of the raw line, so one check of that line for `\` and control characters clears them all, and a
 * string is quoted as is unless it holds a `"`. Lines that fail the check take JSON.stringify.
 * test/unit/cli/row-format.test.ts holds this to JSON.stringify's output, byte for byte.
 */
import { COLUMNS, type AccessLogRow } from '../shared/access-log/index.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are exactly what JSON must escape.
const NEEDS_JSON_ESCAPE = /[\\\u0000-\u001f]/;

const str = (s: string | null): string => (s === null ? 'null' : s.indexOf('"') === -1 ? `"${s}"` : JSON.stringify(s));

/** `logkeyJson` is JSON.stringify(logkey), computed once per file. */
export function ndjsonRow(row: AccessLogRow, raw: string, logkeyJson: string, logline: number): string {
  if (NEEDS_JSON_ESCAPE.test(raw))
    return `${JSON.stringify(row).slice(0, -1)},"logkey":${logkeyJson},"logline":${logline}}\n`;
  // The column order of COLUMNS (the test checks it).
  return (
    `{"bucketowner":${str(row.bucketowner)},"bucket_name":${str(row.bucket_name)},"requestdatetime":"${row.requestdatetime}"` +
    `,"remoteip":${str(row.remoteip)},"requester":${str(row.requester)},"requestid":${str(row.requestid)}` +
    `,"operation":${str(row.operation)},"key":${str(row.key)},"request_uri":${str(row.request_uri)}` +
    `,"httpstatus":${row.httpstatus},"errorcode":${str(row.errorcode)},"bytessent":${row.bytessent}` +
    `,"objectsize":${row.objectsize},"totaltime":${row.totaltime},"turnaroundtime":${row.turnaroundtime}` +
    `,"referrer":${str(row.referrer)},"useragent":${str(row.useragent)},"versionid":${str(row.versionid)}` +
    `,"hostid":${str(row.hostid)},"sigv":${str(row.sigv)},"ciphersuite":${str(row.ciphersuite)}` +
    `,"authtype":${str(row.authtype)},"endpoint":${str(row.endpoint)},"tlsversion":${str(row.tlsversion)}` +
    `,"accesspointarn":${str(row.accesspointarn)},"aclrequired":${row.aclrequired},"sourceregion":${str(row.sourceregion)}` +
    `,"extrafields":${str(row.extrafields)},"logkey":${logkeyJson},"logline":${logline}}\n`
  );
}

const CSV_SPECIAL = /[",\r\n]/;

function csvField(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  return CSV_SPECIAL.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export const CSV_HEADER = `${[...COLUMNS, 'logkey', 'logline'].join(',')}\n`;

/** `logkeyCsv` is csvField(logkey), computed once per file. */
export function csvRow(row: AccessLogRow, logkeyCsv: string, logline: number): string {
  let out = '';
  for (let i = 0; i < COLUMNS.length; i++) out += `${csvField(row[COLUMNS[i]!])},`;
  return `${out}${logkeyCsv},${logline}\n`;
}

export { csvField };
