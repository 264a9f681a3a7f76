/**
 * The CSV dialect of the staged files (docs/load-methods.md; Snowflake file format
 * `s3_access_logs_csv` in sql/pipe/): UTF-8, no header, `,` between fields, `\n` after each record.
 * - NULL is an empty UNQUOTED field (EMPTY_FIELD_AS_NULL = TRUE);
 * - every non-null string is enclosed in `"` with inner `"` doubled, so `""` is the empty string
 *   and a string may hold `,`, `\n` or `\r` (FIELD_OPTIONALLY_ENCLOSED_BY = '"');
 * - integers are unquoted decimal digits (never exponent notation), booleans unquoted TRUE/FALSE.
 * Strings are written as they are: no escape character is defined (ESCAPE_UNENCLOSED_FIELD = NONE),
 * so a backslash is data.
 */

export type CsvValue = string | number | bigint | boolean | null | undefined;

/** A string field: always quoted, so it can never be read as NULL or split. */
export function csvString(s: string): string {
  return s.indexOf('"') === -1 ? `"${s}"` : `"${s.replace(/"/g, '""')}"`;
}

export function csvField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  switch (typeof v) {
    case 'string':
      return csvString(v);
    case 'boolean':
      return v ? 'TRUE' : 'FALSE';
    case 'bigint':
      return v.toString();
    case 'number':
      // Numbers ≥ 1e21 would print in exponent notation, which a NUMBER column does not read.
      if (!Number.isFinite(v)) throw new RangeError(`a CSV number must be finite, got ${v}`);
      return Number.isInteger(v) && Math.abs(v) >= 1e21 ? BigInt(v).toString() : String(v);
  }
  throw new TypeError(`cannot write a ${typeof v} as a CSV field`);
}

/** One record, `\n`-terminated. */
export function csvRecord(values: readonly CsvValue[]): string {
  let out = '';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + csvField(values[i]);
  return `${out}\n`;
}
