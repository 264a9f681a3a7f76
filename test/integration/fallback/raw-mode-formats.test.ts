/**
 * The fallback path with vended JSON and Parquet objects: the UDTF stays text-only, so LOAD_MODE=raw
 * stages each record that maps to a row as the text line it stands for (formatLine), and the UDTF's
 * Python turns those lines into the rows the Lambda writes in parsed mode, to the second (the text
 * format has no milliseconds). A record that cannot be mapped is staged as its JSON and the UDTF
 * rejects it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLine } from '../../../shared/access-log/index.ts';
import { readUdtfPython, runUdtf, udtfTupleToResult } from '../../../cli/parity.ts';
import { toNdjson, toParquet } from '../../../local/sample/vended.ts';
import type { SampleObject } from '../../../local/sample/index.ts';
import { eventFor, makeHandler, makeRow, putLog, query, startStack, type Stack } from '../ingest/fixtures.ts';

let stack: Stack;
let python: string;
beforeAll(async () => {
  stack = await startStack();
  python = await readUdtfPython();
});
afterAll(async () => {
  await stack?.stop();
});

const rows = Array.from({ length: 12 }, (_, i) => makeRow(i));
const object: SampleObject = {
  key: 'x',
  sourceBucket: rows[0]!.bucket_name,
  body: '',
  lines: [...rows.map((row) => ({ raw: formatLine(row), row })), { raw: 'not a record', row: null }],
  rows: rows.length,
  rejects: 1,
};

describe('LOAD_MODE=raw with vended JSON and Parquet objects', () => {
  it.each([
    ['json', toNdjson(object)],
    ['parquet', toParquet(object)],
  ])(
    '%s: stages text lines the UDTF parses into the same rows (seconds), and the unmappable record as its JSON',
    async (format, body) => {
      const o = await putLog(stack, `logs/fallback/vended.${format}`, body);
      expect((await makeHandler(stack, { loadMode: 'raw' }).handle(eventFor([o]))).batchItemFailures).toEqual([]);
      const staged = await query<{ logline: unknown; raw: string }>(
        stack,
        'SELECT logline, raw FROM s3_access_logs_staging WHERE logkey = ? ORDER BY logline',
        [o.key],
      );
      expect(staged.map((s) => s.raw).slice(0, rows.length)).toEqual(rows.map(formatLine));
      expect(staged).toHaveLength(rows.length + 1);
      expect(staged[rows.length]!.raw).not.toBe(formatLine(rows[0]!));

      const udtf = await runUdtf(
        python,
        staged.map((s) => s.raw),
      );
      const results = udtf.map((r) => udtfTupleToResult(r[0]!));
      expect(results.slice(0, rows.length)).toEqual(rows.map((row) => ({ ok: true, row })));
      expect(results[rows.length]!.ok).toBe(false);
    },
    60_000,
  );
});
