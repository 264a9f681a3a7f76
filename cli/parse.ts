/**
 * `s3-access-logs parse FILE|DIR|- ...`: log files → typed rows on stdout (NDJSON or CSV),
 * rejects to a file, a one-line summary on stderr. Streams everything, so memory stays flat
 * whatever the input size.
 */
import { closeSync, createReadStream, createWriteStream, openSync, readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { CliError, describeFileError } from './errors.ts';
import { CSV_HEADER, csvField, csvRow, ndjsonRow } from './row-format.ts';

type Format = 'ndjson' | 'csv';

/**
 * Collects output text and hands it to the stream in 64 KiB writes, waiting for the stream to drain
 * when it asks to: a slow consumer never grows our heap, and waiting happens once per write, never
 * per line.
 */
class BufferedOut {
  private parts: string[] = [];
  size = 0;
  closed = false;
  constructor(private readonly stream: Writable) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // `parse … | head`: the reader went away; stop writing, it is not our failure.
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }
  push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (this.closed) return;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('close', done);
      });
    }
  }
}

const FLUSH_AT = 1 << 16;

/** FILE, DIR (every file below it, sorted) or `-` → the list of inputs, checked up front. */
function expandInputs(args: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  for (const a of args) {
    if (a === '-') {
      out.push(a);
      continue;
    }
    let st: Stats;
    try {
      st = statSync(a);
    } catch (err) {
      throw new CliError(describeFileError(a, err), 1);
    }
    if (st.isDirectory()) {
      try {
        walk(a);
      } catch (err) {
        throw new CliError(describeFileError(a, err), 1);
      }
    } else {
      out.push(a);
    }
  }
  return out;
}

async function* counted(source: AsyncIterable<Uint8Array>, total: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    total.bytes += chunk.length;
    yield chunk;
  }
}

export interface ParseSummary {
  files: number;
  lines: number;
  rows: number;
  rejects: number;
  bytes: number;
  seconds: number;
  /** Inputs with lines of which none parsed: most likely not S3 server access logs. */
  notLogs: Array<{ file: string; lines: number; firstReason: string }>;
  /** Gzip inputs cut short or corrupt: their decodable lines were parsed, the damage is a reject. */
  damagedGzip: Array<{ file: string; reason: 'truncated_gzip' | 'corrupt_gzip'; line: number }>;
  /** JSON/Parquet records of a schema_version_id the mapping does not know (printed all the same), per version. */
  unknownSchemaVersions?: Record<string, number>;
}

async function openRejects(file: string): Promise<{ out: BufferedOut; end(): Promise<void> }> {
  try {
    closeSync(openSync(file, 'w'));
  } catch (err) {
    throw new CliError(`--rejects: ${describeFileError(file, err)}`, 1);
  }
  const stream = createWriteStream(file);
  const out = new BufferedOut(stream);
  return {
    out,
    async end() {
      await out.flush();
      await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    },
  };
}

export async function runParse(
  inputs: string[],
  opts: { format: Format; rejects?: string },
  stdout: Writable = process.stdout,
): Promise<ParseSummary> {
  const files = expandInputs(inputs);
  // The readers (Parquet's among them) load when there is something to read, not for `--help`.
  const { readLogRecordBatches, SchemaVersionTally } = await import('../shared/access-log/formats/index.ts');
  const rejects = opts.rejects !== undefined ? await openRejects(opts.rejects) : undefined;
  const out = new BufferedOut(stdout);
  const started = process.hrtime.bigint();
  const total = { bytes: 0 };
  const summary: ParseSummary = {
    files: 0,
    lines: 0,
    rows: 0,
    rejects: 0,
    bytes: 0,
    seconds: 0,
    notLogs: [],
    damagedGzip: [],
  };
  const csv = opts.format === 'csv';
  if (csv) out.push(CSV_HEADER);

  for (const file of files) {
    const source = file === '-' ? process.stdin : createReadStream(file);
    const logkey = csv ? csvField(file) : JSON.stringify(file);
    const before = { lines: summary.lines, rows: summary.rows };
    let firstReason = '';
    summary.files++;
    const versions = new SchemaVersionTally();
    try {
      for await (const batch of readLogRecordBatches(counted(source, total), { observer: versions })) {
        summary.lines += batch.length;
        for (let i = 0; i < batch.length; i++) {
          const p = batch[i]!;
          const r = p.result;
          if (r.ok) {
            summary.rows++;
            out.push(csv ? csvRow(r.row, logkey, p.line) : ndjsonRow(r.row, p.raw, logkey, p.line));
          } else {
            summary.rejects++;
            firstReason ||= r.reason;
            if (r.reason === 'truncated_gzip' || r.reason === 'corrupt_gzip')
              summary.damagedGzip.push({ file, reason: r.reason, line: p.line });
            rejects?.out.push(
              `${JSON.stringify({ logkey: file, logline: p.line, reason: r.reason, rawline: p.raw })}\n`,
            );
          }
        }
        if (out.closed) out.size = 0;
        if (out.size >= FLUSH_AT) await out.flush();
        if (rejects && rejects.out.size >= FLUSH_AT) await rejects.out.flush();
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(describeFileError(file, err), 1);
    }
    const lines = summary.lines - before.lines;
    const damaged = summary.damagedGzip.at(-1)?.file === file;
    if (lines > 0 && summary.rows === before.rows && !damaged) summary.notLogs.push({ file, lines, firstReason });
    for (const [v, n] of versions.counts)
      (summary.unknownSchemaVersions ??= {})[v] = (summary.unknownSchemaVersions[v] ?? 0) + n;
  }
  await out.flush();
  await rejects?.end();
  summary.bytes = total.bytes;
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}

/** The stderr warning for a gzip input that is cut short or corrupt (the Lambda loads it the same way). */
export function damagedGzipWarning(d: ParseSummary['damagedGzip'][number]): string {
  const name = d.file === '-' ? 'standard input' : d.file;
  const what =
    d.reason === 'truncated_gzip'
      ? 'is a truncated gzip file (it ends before its compressed data does)'
      : 'is a gzip file whose compressed data is corrupt';
  return (
    `warning: ${name} ${what}: the lines before the damage were parsed, and line ${d.line} is a ${d.reason} reject; ` +
    'fetch the file again to get the rest.'
  );
}

/** The stderr warning for an input that yielded only rejects. */
export function notLogWarning(n: ParseSummary['notLogs'][number]): string {
  const name = n.file === '-' ? 'standard input' : n.file;
  return (
    `warning: ${name} does not look like an S3 server access log: none of its ${n.lines} line${n.lines === 1 ? '' : 's'} ` +
    `parsed (first reason: ${n.firstReason}).`
  );
}

export function formatSummary(s: ParseSummary): string {
  const mb = s.bytes / 1e6;
  const rate = s.seconds > 0 ? mb / s.seconds : 0;
  return (
    `parsed ${s.files} file${s.files === 1 ? '' : 's'}: ${s.lines} lines, ${s.rows} rows, ` +
    `${s.rejects} rejects, ${mb.toFixed(1)} MB in ${s.seconds.toFixed(2)} s (${rate.toFixed(1)} MB/s)` +
    (s.unknownSchemaVersions
      ? `\nwarning: records of unknown schema_version_id ${Object.entries(s.unknownSchemaVersions)
          .map(([v, n]) => `${v} (${n})`)
          .join(', ')} were printed with the fields docs/formats.md maps; the others are in extrafields.`
      : '')
  );
}

export function register(program: Command): void {
  program
    .command('parse')
    .description(
      'Parse S3 server access log files (text, or CloudWatch Logs vended JSON or Parquet; plain or gzip) into typed rows on stdout.',
    )
    .argument('<inputs...>', 'log files, directories (every file below, sorted), or - for stdin')
    .addOption(new Option('--format <format>', 'output format').choices(['ndjson', 'csv']).default('ndjson'))
    .option('--rejects <file>', 'write rejected lines as NDJSON {logkey, logline, reason, rawline} to FILE')
    .action(async (inputs: string[], opts: { format: Format; rejects?: string }) => {
      const summary = await runParse(inputs, opts);
      for (const d of summary.damagedGzip) process.stderr.write(`s3-access-logs: ${damagedGzipWarning(d)}\n`);
      for (const n of summary.notLogs) process.stderr.write(`s3-access-logs: ${notLogWarning(n)}\n`);
      process.stderr.write(`${formatSummary(summary)}\n`);
    });
}
