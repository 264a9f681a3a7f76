/**
 * The fallback path end to end on the local stand-ins (fauxqs + snowflake-local, real SDKs, the real
 * ingest handler): LOAD_MODE=raw stages every line with lineage through the exactly-once ledger,
 * and what the fallback task would make of the staged lines (the UDTF's Python, run with python3
 * because snowflake-local cannot host Python UDTFs, tasks or streams) equals what the Lambda writes
 * in parsed mode: same typed rows, same rejects, a reject marker for every unparseable line.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLUMNS, parseLine } from '../../../shared/access-log/index.ts';
import {
  REPO_ROOT,
  compareWithWarehouse,
  readUdtfPython,
  runUdtf,
  udtfTupleToResult,
  warehouseRowToAccessLogRow,
  type RawLine,
} from '../../../cli/parity.ts';
import {
  LOG_BUCKET,
  count,
  eventFor,
  linesOf,
  makeHandler,
  makeRow,
  putLog,
  query,
  startStack,
  type Stack,
} from '../ingest/fixtures.ts';

/** Hard lines (embedded quotes, requester with spaces, offsets, 18..28 fields) and bad ones. */
function testLines(): string[] {
  const generated = linesOf(
    Array.from({ length: 40 }, (_, i) =>
      makeRow(i, i % 4 === 0 ? { requester: 'arn:aws:iam::123:user/CloudFront Origin Access Identity E1ABC' } : {}),
    ),
  );
  const corpus = path.resolve(REPO_ROOT, '../shared/corpus');
  const fromCorpus = existsSync(corpus)
    ? [
        'dandi-s3-log-parser.log',
        'dandi-s3-log-extraction.log',
        'thirdparty-issues-and-docs.log',
        'otel-awslogsencoding-s3accesslog.log',
        'lnav-s3_log-samples.log',
        'kdgm-logstash-plugins-spec.log',
      ]
        .flatMap((f) => readFileSync(path.join(corpus, f), 'utf8').split('\n'))
        .filter((l) => l.trim() !== '')
    : [];
  const bad = [
    'not a log line',
    'owner bucket [2017-08-16] 1.2.3.4 - ID REST.GET.OBJECT k "GET / HTTP/1.1" 200 - 1 2 3 4 "-" "-" -',
  ];
  return [...generated, ...fromCorpus, ...bad];
}

let stack: Stack;
let python: string;
const rowsOf = async (key: string) =>
  query(stack, `SELECT ${COLUMNS.join(', ')}, logline FROM s3_access_logs WHERE logkey = ? ORDER BY logline`, [key]);

beforeAll(async () => {
  stack = await startStack();
  python = await readUdtfPython();
});
afterAll(async () => {
  await stack?.stop();
});

describe('LOAD_MODE=raw on the local stack', () => {
  it('stages every line verbatim with lineage (bucket, key, line number as in the file) and claims the ledger as raw', async () => {
    const { handle } = makeHandler(stack, { loadMode: 'raw' });
    const lines = testLines();
    // CRLF line ends, a blank line (skipped but counted), gzip: what S3 objects may look like.
    const body = `${[lines[0], '', ...lines.slice(1)].join('\r\n')}\r\n`;
    const o = await putLog(stack, 'logs/fallback/raw-1.gz', gzipSync(body));
    expect((await handle(eventFor([o]))).batchItemFailures).toEqual([]);

    const staged = await query<{ logbucket: string; logkey: string; logline: unknown; raw: string; loadedat: unknown }>(
      stack,
      'SELECT logbucket, logkey, logline, raw, loadedat FROM s3_access_logs_staging WHERE logkey = ? ORDER BY logline',
      [o.key],
    );
    const expected = [lines[0]!, ...lines.slice(1)].map((raw, i) => ({
      logbucket: LOG_BUCKET,
      logkey: o.key,
      logline: i === 0 ? 1 : i + 2,
      raw,
    }));
    expect(staged.map(({ loadedat, ...r }) => ({ ...r, logline: Number(r.logline) }))).toEqual(expected);
    expect(staged.every((r) => r.loadedat !== null)).toBe(true);

    // Nothing typed: that is the task's job, after the ledger says so.
    expect(await count(stack, 's3_access_logs', o.key)).toBe(0);
    expect(await count(stack, 's3_access_logs_rejects', o.key)).toBe(0);
    const ledger = await query(
      stack,
      'SELECT logbucket, mode, linecount, rowcount, rejectcount, claimid FROM s3_access_logs_loads WHERE logkey = ?',
      [o.key],
    );
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ logbucket: LOG_BUCKET, mode: 'raw' });
    expect([ledger[0]!.linecount, ledger[0]!.rowcount, ledger[0]!.rejectcount].map(Number)).toEqual([
      lines.length,
      lines.length,
      0,
    ]);
    expect(String(ledger[0]!.claimid)).not.toBe('');
  });

  it('does not stage an object twice: redelivery, duplicates in one batch, and a later switch back to parsed', async () => {
    const raw = makeHandler(stack, { loadMode: 'raw' });
    const lines = linesOf([makeRow(1), makeRow(2), makeRow(3)]);
    const o = await putLog(stack, 'logs/fallback/redelivered', lines.join('\n'));
    expect((await raw.handle(eventFor([o, o]))).batchItemFailures).toEqual([]);
    expect((await raw.handle(eventFor([o]))).batchItemFailures).toEqual([]);
    expect(await count(stack, 's3_access_logs_staging', o.key)).toBe(3);

    // Back on the Lambda path: the object is claimed (mode raw, the task's to type), so a parsed
    // handler must not load it as well.
    const parsed = makeHandler(stack, { loadMode: 'parsed' });
    expect((await parsed.handle(eventFor([o]))).batchItemFailures).toEqual([]);
    expect(await count(stack, 's3_access_logs', o.key)).toBe(0);
    expect(await count(stack, 's3_access_logs_staging', o.key)).toBe(3);
    const ledger = await query(stack, 'SELECT mode FROM s3_access_logs_loads WHERE logkey = ?', [o.key]);
    expect(ledger).toEqual([{ mode: 'raw' }]);

    // And the other way round: an object typed by the Lambda is not staged by a raw handler.
    const p = await putLog(stack, 'logs/fallback/typed-first', lines.join('\n'));
    await parsed.handle(eventFor([p]));
    await raw.handle(eventFor([p]));
    expect(await count(stack, 's3_access_logs', p.key)).toBe(3);
    expect(await count(stack, 's3_access_logs_staging', p.key)).toBe(0);
  });

  it("the task's transform of the staged lines gives the typed rows and rejects the Lambda writes, one UDTF row per line", async () => {
    const lines = testLines();
    const body = `${lines.join('\n')}\n`;
    const typedObj = await putLog(stack, 'logs/fallback/same-content-parsed', body);
    const rawObj = await putLog(stack, 'logs/fallback/same-content-raw', body);
    await makeHandler(stack, { loadMode: 'parsed' }).handle(eventFor([typedObj]));
    await makeHandler(stack, { loadMode: 'raw' }).handle(eventFor([rawObj]));

    const staged = await query<{ logline: unknown; raw: string }>(
      stack,
      'SELECT logline, raw FROM s3_access_logs_staging WHERE logkey = ? ORDER BY logline',
      [rawObj.key],
    );
    expect(staged).toHaveLength(lines.length);
    const udtf = await runUdtf(
      python,
      staged.map((s) => s.raw),
    );
    expect(udtf.every((rows) => rows.length === 1)).toBe(true); // never dropped, never doubled

    const typed = new Map((await rowsOf(typedObj.key)).map((r) => [Number(r.logline), warehouseRowToAccessLogRow(r)]));
    const rejects = new Map(
      (
        await query<{ logline: unknown; reason: string; rawline: string }>(
          stack,
          'SELECT logline, reason, rawline FROM s3_access_logs_rejects WHERE logkey = ?',
          [typedObj.key],
        )
      ).map((r) => [Number(r.logline), r]),
    );
    expect(typed.size + rejects.size).toBe(lines.length);
    let parsedLines = 0;
    for (const [i, s] of staged.entries()) {
      const line = Number(s.logline);
      const tuple = udtf[i]![0]!;
      const result = udtfTupleToResult(tuple);
      if (result.ok) {
        parsedLines++;
        expect(result.row, `line ${line}: ${s.raw}`).toEqual(typed.get(line));
      } else {
        // The reject marker: the reason, and every other column NULL; the Lambda rejected it too.
        expect(tuple.slice(0, COLUMNS.length).every((v) => v === null)).toBe(true);
        expect(rejects.get(line), `line ${line}`).toMatchObject({ reason: result.reason, rawline: s.raw });
        expect(parseLine(s.raw)).toEqual({ ok: false, reason: result.reason });
      }
    }
    expect(parsedLines).toBe(typed.size);
    expect(rejects.size).toBeGreaterThanOrEqual(2);
  });

  it("parity --local's comparison: Snowpipe-staged lines of Lambda-typed objects agree, raw-mode objects are not compared", async () => {
    const lines = linesOf(Array.from({ length: 25 }, (_, i) => makeRow(100 + i)));
    lines.splice(7, 0, 'garbage that both sides reject');
    const o = await putLog(stack, 'logs/fallback/parity', lines.join('\n'));
    await makeHandler(stack, { loadMode: 'parsed' }).handle(eventFor([o]));
    // Snowpipe, emulated with the pipe's column mapping (sql/fallback/snowpipe/03-pipe.sql): bucket, key,
    // METADATA$FILE_ROW_NUMBER, $1, load time.
    for (const [i, raw] of lines.entries()) {
      await query(
        stack,
        'INSERT INTO s3_access_logs_staging (logbucket, logkey, logline, raw, loadedat) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP())',
        [LOG_BUCKET, o.key, i + 1, raw],
      );
    }
    const all = await query<{ logbucket: string; logkey: string; logline: unknown; raw: string }>(
      stack,
      'SELECT logbucket, logkey, logline, raw FROM s3_access_logs_staging',
    );
    const staged: RawLine[] = all.map((r) => ({
      logbucket: r.logbucket,
      logkey: r.logkey,
      logline: Number(r.logline),
      raw: r.raw,
    }));
    const result = await compareWithWarehouse((sql) => query(stack, sql), staged, 'staging', python);
    expect(result.report.lines).toBe(lines.length);
    expect(result.report.bothAccept).toBe(25);
    expect(result.report.matching).toBe(25);
    expect(result.report.bothReject).toBe(1);
    expect(result.report.agreement).toBe(1);
    expect(result.missingTyped).toBe(0);
    expect(result.missingRaw).toBe(0);
    // Lines staged by the raw-mode tests above belong to objects with ledger mode 'raw'.
    expect(result.notCompared).toBe(staged.length - lines.length);
    expect(result.notCompared).toBeGreaterThan(0);
  });
});
