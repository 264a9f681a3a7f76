/** The S3 server access log format: columns, the line parser, its inverse, line streaming. */
export { COLUMNS } from './columns.ts';
export type { AccessLogRow, ParsedLine } from './columns.ts';
export { parseLine } from './parse-line.ts';
export { formatLine } from './format-line.ts';
export { readLogLines, MAX_LINE_CHARS } from './read-lines.ts';
export { s3TimeToIso } from './time.ts';
