/** The direct NDJSON/CSV writers of `parse` against the obvious implementations they replace. */
import { describe, expect, it } from 'vitest';
import { generateLines } from '../../../local/sample/lines.ts';
import { COLUMNS, parseLine, type AccessLogRow } from '../../../shared/access-log/index.ts';
import { CSV_HEADER, csvField, csvRow, ndjsonRow } from '../../../cli/row-format.ts';

const reference = (row: AccessLogRow, logkey: string, logline: number) =>
  `${JSON.stringify({ ...row, logkey, logline })}\n`;

const base =
  'ownerid9 bucket-z [14/Mar/2024:09:26:53 +0200] 198.51.100.7 - Q8D3K2M1ZX7P4R5T REST.GET.OBJECT a.txt ' +
  '"GET /a.txt HTTP/1.1" 200 - 10 10 5 4 "-" "curl/8" - hostid1= SigV4 c AuthHeader e TLSv1.3 - Yes';
// Lines whose values need escaping in JSON: quotes, backslashes, a tab, other control characters.
const tricky = [
  base.replace('"curl/8"', '"say "hi", then go"'),
  base.replace('"curl/8"', '"C:\\\\path\\\\agent"'),
  base.replace('a.txt "GET /a.txt', 'a\\b.txt "GET /a\\b.txt'),
  base.replace('"curl/8"', '"tab\there"'),
  base.replace('"curl/8"', '"bell\u0007 and \u001f"'),
  base.replace('"curl/8"', '"ünïcödé ☃ 😀"'),
  base.replace('"-" "curl/8"', '"https://x.test/?q="quoted"" "curl/8"'),
  `${base} extra1 "x" y\\z`,
];

describe('ndjsonRow', () => {
  it('writes exactly what JSON.stringify writes, for generated lines and lines that need escaping', () => {
    const lines = [...tricky];
    for (const l of generateLines({ seed: 11 })) {
      lines.push(l);
      if (lines.length > 3000) break;
    }
    let checked = 0;
    for (const [i, raw] of lines.entries()) {
      const r = parseLine(raw);
      if (!r.ok) continue;
      const key = i % 2 ? 'logs/a "b".gz' : 'plain.log';
      expect(ndjsonRow(r.row, raw, JSON.stringify(key), i + 1)).toBe(reference(r.row, key, i + 1));
      checked++;
    }
    expect(checked).toBeGreaterThan(3000);
    // Every tricky line parsed, so each escaping path above ran.
    expect(tricky.every((l) => parseLine(l).ok)).toBe(true);
  });

  it('keeps the column order of COLUMNS', () => {
    const r = parseLine(base);
    if (!r.ok) throw new Error(r.reason);
    expect(Object.keys(JSON.parse(ndjsonRow(r.row, base, '"k"', 1)) as object)).toEqual([
      ...COLUMNS,
      'logkey',
      'logline',
    ]);
  });
});

describe('csvRow', () => {
  it('quotes fields with commas, quotes or line breaks and leaves the rest bare', () => {
    const r = parseLine(tricky[0]!);
    if (!r.ok) throw new Error(r.reason);
    const line = csvRow(r.row, csvField('a,b.log'), 7);
    expect(line).toContain(',"say ""hi"", then go",');
    expect(line.endsWith(',true,,,"a,b.log",7\n')).toBe(true);
    expect(CSV_HEADER).toBe(`${[...COLUMNS, 'logkey', 'logline'].join(',')}\n`);
  });
});
