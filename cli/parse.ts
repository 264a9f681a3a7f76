/**
 * `s3-access-logs parse FILE|DIR|- ...`: log files → typed rows on stdout (NDJSON or CSV),
 * rejects to a file, a one-line summary on stderr. Streams everything, so memory stays flat
 * whatever the input size.
 */
import { closeSync, createReadStream, createWriteStream, openSync, readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { COLUMNS, type AccessLogRow } from '../shared/access-log/index.ts';
import { readLogRecords, SchemaVersionTally } from '../shared/access-log/formats/index.ts';
import { CliError } from './errors.ts';

type Format = 'ndjson' | 'csv';

/** Buffers small writes and honours backpressure, so a slow consumer never grows our heap. */
class BufferedOut {
  private parts: string[] = [];
  private size = 0;
  closed = false;
  constructor(private readonly stream: Writable) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // `parse … | head`: the reader went away; stop writing, it is not our failure.
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }
  async write(s: string): Promise<void> {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 16) await this.flush();
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

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_HEADER = `${[...COLUMNS, 'logkey', 'logline'].join(',')}\n`;

/** `logkeyJson` is JSON.stringify(logkey), computed once per file. */
function formatRow(row: AccessLogRow, logkey: string, logkeyJson: string, logline: number, format: Format): string {
  // Splicing two fields into the row's JSON is cheaper than stringifying a spread copy.
  if (format === 'ndjson') return `${JSON.stringify(row).slice(0, -1)},"logkey":${logkeyJson},"logline":${logline}}\n`;
  let out = '';
  for (const c of COLUMNS) out += `${csvField(row[c])},`;
  return `${out}${csvField(logkey)},${logline}\n`;
}

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
      throw new CliError(`cannot read input ${a}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 1);
    }
    if (st.isDirectory()) {
      try {
        walk(a);
      } catch (err) {
        throw new CliError(`cannot read directory ${a}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 1);
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
  /** JSON/Parquet records of a schema_version_id the mapping does not know (printed all the same), per version. */
  unknownSchemaVersions?: Record<string, number>;
}

export async function runParse(
  inputs: string[],
  opts: { format: Format; rejects?: string },
  stdout: Writable = process.stdout,
): Promise<ParseSummary> {
  const files = expandInputs(inputs);
  let rejectsOut: BufferedOut | undefined;
  let rejectsStream: Writable | undefined;
  if (opts.rejects !== undefined) {
    try {
      closeSync(openSync(opts.rejects, 'w'));
    } catch (err) {
      throw new CliError(
        `cannot write rejects file ${opts.rejects}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        1,
      );
    }
    rejectsStream = createWriteStream(opts.rejects);
    rejectsOut = new BufferedOut(rejectsStream);
  }
  const out = new BufferedOut(stdout);
  const started = process.hrtime.bigint();
  const total = { bytes: 0 };
  const summary: ParseSummary = { files: 0, lines: 0, rows: 0, rejects: 0, bytes: 0, seconds: 0 };
  if (opts.format === 'csv') await out.write(CSV_HEADER);

  for (const file of files) {
    const source = file === '-' ? process.stdin : createReadStream(file);
    const fileJson = JSON.stringify(file);
    summary.files++;
    const versions = new SchemaVersionTally();
    try {
      for await (const p of readLogRecords(counted(source, total), { observer: versions })) {
        summary.lines++;
        if (p.result.ok) {
          summary.rows++;
          if (!out.closed) await out.write(formatRow(p.result.row, file, fileJson, p.line, opts.format));
        } else {
          summary.rejects++;
          if (rejectsOut) {
            await rejectsOut.write(
              `${JSON.stringify({ logkey: file, logline: p.line, reason: p.result.reason, rawline: p.raw })}\n`,
            );
          }
        }
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new CliError(`cannot read input ${file}: ${e.code ?? e.message}`, 1);
    }
    for (const [v, n] of versions.counts)
      (summary.unknownSchemaVersions ??= {})[v] = (summary.unknownSchemaVersions[v] ?? 0) + n;
  }
  await out.flush();
  if (rejectsOut && rejectsStream) {
    await rejectsOut.flush();
    await new Promise<void>((resolve, reject) =>
      rejectsStream!.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }
  summary.bytes = total.bytes;
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
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
      process.stderr.write(`${formatSummary(summary)}\n`);
    });
}
