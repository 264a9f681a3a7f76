/**
 * Parity of the fallback path's Python UDTF (sql/fallback/02-udtf.sql) with the TypeScript parser.
 *
 * The UDTF's handler is the exact text between the `$$` delimiters of the SQL file, run with
 * python3 once for all lines (as Snowflake would: one handler, process() per line). Every line of
 * ../shared/corpus and a few thousand generated lines (valid rows through formatLine, the same
 * lines cut and sprinkled with quotes, arbitrary strings) are parsed by both; accept/reject
 * decisions and all 28 columns are compared. Agreement must be >= 99.9% of the lines both accept,
 * and every difference must match an entry of EXPLAINED below, or the test fails.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { COLUMNS, formatLine, parseLine, type AccessLogRow } from '../../shared/access-log/index.ts';
import {
  REPO_ROOT,
  compareParity,
  formatParityReport,
  readUdtfPython,
  runUdtf,
  udtfTupleToResult,
  type ColumnDifference,
  type ParityLine,
  type ParityReport,
} from '../../cli/parity.ts';
import { skipWithout } from '../helpers/corpus.ts';

const CORPUS = path.resolve(REPO_ROOT, '../shared/corpus');
const corpusFound = !skipWithout(existsSync(CORPUS), `the log corpus (${CORPUS})`);

/**
 * Every known difference between the UDTF and the TypeScript parser, with its explanation. A
 * difference (column or accept/reject decision) that matches none of these fails the test.
 * Empty today: the handler is a statement-by-statement port, and no difference has been seen on
 * the corpus or in generated lines. Add an entry only with the reason it cannot be removed.
 */
const EXPLAINED: Array<{
  why: string;
  column?: (d: ColumnDifference) => boolean;
  decision?: (raw: string) => boolean;
}> = [];

function unexplainedColumns(r: ParityReport): ColumnDifference[] {
  return r.differences.filter((d) => !EXPLAINED.some((e) => e.column?.(d)));
}
function unexplainedDecisions(r: ParityReport): string[] {
  return [...r.tsOnly, ...r.udtfOnly].map((d) => d.raw).filter((raw) => !EXPLAINED.some((e) => e.decision?.(raw)));
}

let python = '';
async function compare(lines: Array<{ where: string; raw: string }>): Promise<ParityLine[]> {
  const tuples = await runUdtf(
    python,
    lines.map((l) => l.raw),
  );
  return lines.map((l, i) => {
    const out = tuples[i]!;
    // Exactly one UDTF row per line: a line is never dropped, never doubled.
    if (out.length !== 1) throw new Error(`${l.where}: the UDTF yielded ${out.length} rows for one line`);
    return { ...l, ts: parseLine(l.raw), udtf: udtfTupleToResult(out[0]!) };
  });
}

function assertParity(lines: ParityLine[], label: string): ParityReport {
  const report = compareParity(lines);
  console.log(formatParityReport(report, `${label}: UDTF vs TypeScript parser`));
  expect(report.bothAccept).toBeGreaterThan(0);
  expect(report.agreement).toBeGreaterThanOrEqual(0.999);
  expect(unexplainedColumns(report)).toEqual([]);
  expect(unexplainedDecisions(report)).toEqual([]);
  // Rejects carry the same reason on both sides (the task writes it to s3_access_logs_rejects).
  const reasonMismatch = lines.filter((l) => !l.ts.ok && !l.udtf.ok && l.ts.reason !== l.udtf.reason);
  expect(
    reasonMismatch.map((l) => `${l.where}: ts=${!l.ts.ok && l.ts.reason} udtf=${!l.udtf.ok && l.udtf.reason}`),
  ).toEqual([]);
  return report;
}

beforeAll(async () => {
  python = await readUdtfPython();
});

describe('UDTF source', () => {
  it('is the text between the $$ of CREATE FUNCTION parse_s3_access_logs, with the handler class', async () => {
    const sql = await readFile(path.join(REPO_ROOT, 'sql/fallback/02-udtf.sql'), 'utf8');
    expect(sql.includes(`$$${python}$$`)).toBe(true);
    expect(python).toMatch(/^class S3AccessLogParser:\n {4}def process\(self, log\):/m);
  });
});

describe.skipIf(!corpusFound)(
  `corpus parity${corpusFound ? '' : ' (skipped: corpus not found at ../shared/corpus)'}`,
  () => {
    it('agrees with the TypeScript parser on every corpus line', async () => {
      const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.log')).sort();
      expect(files.length).toBeGreaterThan(0);
      const lines: Array<{ where: string; raw: string }> = [];
      for (const f of files) {
        const text = await readFile(path.join(CORPUS, f), 'utf8');
        text.split('\n').forEach((raw, i) => {
          if (raw.trim() !== '') lines.push({ where: `${f}:${i + 1}`, raw });
        });
      }
      const report = assertParity(await compare(lines), `corpus (${files.length} files)`);
      expect(report.lines).toBe(lines.length);
    });
  },
);

// Generated lines: rows the way S3 writes them, then broken ones.
const printable = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+%&?@,;()[]{}*!$'~".split('');
const other = fc.constantFrom('é', 'ß', '中', '\uFFFD', '😀', 'Ω', '\t');
const tokenChar = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...printable) }, { weight: 1, arbitrary: other });
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 20 }).filter((t) => t !== '-' && !t.includes('\t'));
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 3 });
const OPERATION_SHAPE = /^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+){2,}$/;
const word = token.filter((w) => !OPERATION_SHAPE.test(w) && !w.startsWith('"'));
const quotedText = fc
  .string({
    unit: fc.oneof({ weight: 6, arbitrary: tokenChar }, { weight: 2, arbitrary: fc.constantFrom(' ', '"', '-') }),
    minLength: 1,
    maxLength: 40,
  })
  .filter((t) => t !== '-' && !t.includes('\t'));
const iso = fc
  .integer({ min: Date.UTC(2006, 0, 1), max: Date.UTC(2040, 11, 31) })
  .map((ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'));

const generatedRow: fc.Arbitrary<AccessLogRow> = fc
  .record({
    fields: fc.integer({ min: 18, max: 30 }),
    bucketowner: token,
    bucket_name: token,
    requestdatetime: iso,
    remoteip: nullable(token),
    requester: nullable(
      fc.oneof(
        word,
        fc.array(word, { minLength: 2, maxLength: 4 }).map((w) => w.join(' ')),
      ),
    ),
    requestid: nullable(word),
    operation: fc.constantFrom(
      'REST.GET.OBJECT',
      'REST.PUT.OBJECT',
      'S3.EXPIRE.OBJECT',
      'BATCH.DELETE.OBJECT',
      'WEBSITE.GET.OBJECT',
      'REST.COPY.OBJECT_GET',
    ),
    key: nullable(token),
    request_uri: nullable(
      fc
        .tuple(
          fc.constantFrom('GET', 'PUT', 'HEAD'),
          fc.string({ unit: fc.oneof(tokenChar, fc.constant('"')), minLength: 1, maxLength: 30 }),
          fc.constantFrom('1.0', '1.1'),
        )
        .map(([m, p, v]) => `${m} /${p} HTTP/${v}`),
    ),
    httpstatus: nullable(fc.integer({ min: 100, max: 599 })),
    errorcode: nullable(token),
    bytessent: nullable(fc.maxSafeNat()),
    objectsize: nullable(fc.maxSafeNat()),
    totaltime: nullable(fc.nat()),
    turnaroundtime: nullable(fc.nat()),
    referrer: nullable(quotedText.filter((t) => !/" +("|-( |$))/.test(`${t}" `) && !/" +$/.test(t))),
    useragent: nullable(quotedText),
    trailing: fc.array(nullable(token), { minLength: 8, maxLength: 8 }),
    aclrequired: fc.boolean(),
    sourceregion: nullable(token),
    extra: fc.array(token, { minLength: 1, maxLength: 3 }),
  })
  .map(({ fields, trailing, aclrequired, sourceregion, extra, ...head }) => {
    const t = (n: number) => (fields >= n ? trailing[n - 18]! : null);
    return {
      ...head,
      versionid: t(18),
      hostid: t(19),
      sigv: t(20),
      ciphersuite: t(21),
      authtype: t(22),
      endpoint: t(23),
      tlsversion: t(24),
      accesspointarn: t(25),
      aclrequired: fields >= 26 ? aclrequired : null,
      sourceregion: fields >= 27 ? sourceregion : null,
      extrafields: fields > 27 ? extra.slice(0, fields - 27).join(' ') : null,
    };
  });

describe('generated-line parity', () => {
  it('agrees on valid lines, mutated lines, odd times and arbitrary strings (accept/reject and every column)', async () => {
    const seed = 20261126;
    const rows = fc.sample(generatedRow, { numRuns: 2500, seed });
    const valid = rows.map((r, i) => ({ where: `valid#${i}`, raw: formatLine(r) }));
    const mutations = fc
      .sample(
        fc.tuple(
          generatedRow,
          fc.nat(),
          fc.nat(),
          fc.constantFrom('"', ' ', '  ', '-', '" "', '"-"', '[', ']', '\uFFFD', '', 'x', '0'),
        ),
        { numRuns: 2500, seed: seed + 1 },
      )
      .map(([r, a, b, insert], i) => {
        const line = formatLine(r);
        const at = a % (line.length + 1);
        return { where: `mutated#${i}`, raw: line.slice(0, at) + insert + line.slice(at + (b % 8)) };
      });
    // Times: offsets, leap days, impossible dates, years that leave 1000..9999 once the offset is applied.
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const times = fc
      .sample(
        fc.tuple(
          generatedRow,
          fc.integer({ min: 0, max: 32 }),
          fc.constantFrom(
            'Jan',
            'Feb',
            'Mar',
            'Apr',
            'May',
            'Jun',
            'Jul',
            'Aug',
            'Sep',
            'Oct',
            'Nov',
            'Dec',
            'feb',
            'Fev',
            'JAN',
          ),
          fc.constantFrom(999, 1000, 1900, 2000, 2019, 2020, 2024, 2100, 9999),
          fc.integer({ min: 0, max: 24 }),
          fc.integer({ min: 0, max: 60 }),
          fc.integer({ min: 0, max: 60 }),
          fc.constantFrom('+', '-', ' '),
          fc.integer({ min: 0, max: 24 }),
          fc.constantFrom(0, 30, 45, 59, 60),
        ),
        { numRuns: 1500, seed: seed + 3 },
      )
      .map(([r, d, mon, y, h, mi, se, sign, oh, om], i) => {
        const line = formatLine(r);
        const t = `[${pad(d)}/${mon}/${pad(y, 4)}:${pad(h)}:${pad(mi)}:${pad(se)} ${sign}${pad(oh)}${pad(om)}]`;
        return { where: `time#${i}`, raw: line.replace(/\[[^\]]*\]/, t) };
      });
    const arbitrary = fc
      .sample(fc.string({ unit: 'binary', maxLength: 200 }), { numRuns: 500, seed: seed + 2 })
      .filter((s) => !s.includes('\n'))
      .map((raw, i) => ({ where: `arbitrary#${i}`, raw }));
    const lines = await compare([...valid, ...mutations, ...times, ...arbitrary]);
    // Round trip on the TypeScript side is the parser's own property; here the UDTF must give the
    // generating row back too.
    for (const [i, l] of lines.slice(0, valid.length).entries()) {
      if (!l.udtf.ok) throw new Error(`UDTF rejected a valid line (${l.udtf.reason}): ${l.raw}`);
      expect(l.udtf.row).toEqual(rows[i]);
    }
    const report = assertParity(lines, 'generated');
    expect(report.bothAccept).toBeGreaterThanOrEqual(valid.length);
  });
});

describe('reject marker', () => {
  it('yields exactly one row per line: the reason and 28 NULLs for a line it cannot parse', async () => {
    const good =
      '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 ' +
      '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - ' +
      '"GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - ' +
      's9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader ' +
      'awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 - Yes us-east-1';
    const bad = {
      too_few_fields: good.slice(0, good.indexOf(' 200 ')),
      bad_time: good.replace('[06/Feb/2019:00:00:38 +0000]', '[2019-02-06]'),
      'bad_number:bytessent': good.replace(' 200 - 113 ', ' 200 - 11x3 '),
      bad_request_uri: good.replace('"GET /awsexamplebucket1?versioning HTTP/1.1"', 'GET'),
    };
    const inputs = [good, ...Object.values(bad), ''];
    const out = await runUdtf(python, inputs);
    expect(out.map((rows) => rows.length)).toEqual(inputs.map(() => 1));

    const parsed = out[0]![0]!;
    expect(parsed).toHaveLength(COLUMNS.length + 1);
    expect(parsed[COLUMNS.length]).toBeNull();
    const row = Object.fromEntries(COLUMNS.map((c, i) => [c, parsed[i]]));
    expect(row).toMatchObject({
      bucket_name: 'awsexamplebucket1',
      requestdatetime: '2019-02-06T00:00:38Z',
      httpstatus: 200,
      bytessent: 113,
      objectsize: null,
      totaltime: 7,
      referrer: null,
      useragent: 'S3Console/0.4',
      aclrequired: true,
      sourceregion: 'us-east-1',
      extrafields: null,
    });

    for (const [i, reason] of [...Object.keys(bad), 'too_few_fields'].entries()) {
      const t = out[i + 1]![0]!;
      expect(t).toHaveLength(COLUMNS.length + 1);
      expect(t[COLUMNS.length]).toBe(reason);
      expect(t.slice(0, COLUMNS.length).every((v) => v === null)).toBe(true);
    }
  });

  it('turns a time offset into UTC and keeps integers beyond 2^32 exact', async () => {
    const line =
      'owner bkt [10/Feb/2012:16:42:07 -0500] 1.2.3.4 - REQ REST.GET.OBJECT k "GET /k HTTP/1.1" 200 - 6616308 422868123111 205 35 "-" "ua" -';
    const [[t]] = (await runUdtf(python, [line])) as [[unknown[]]];
    expect(t[2]).toBe('2012-02-10T21:42:07Z');
    expect(t[12]).toBe(422868123111);
    expect(parseLine(line)).toMatchObject({
      ok: true,
      row: { requestdatetime: '2012-02-10T21:42:07Z', objectsize: 422868123111 },
    });
  });
});
