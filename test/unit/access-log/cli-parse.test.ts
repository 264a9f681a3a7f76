/** `s3-access-logs parse`, run as users run it: by spawning the bin. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLines } from '../../../local/sample/lines.ts';
import { COLUMNS, parseLine } from '../../../shared/access-log/index.ts';

const bin = new URL('../../../bin/s3-access-logs.mjs', import.meta.url).pathname;
const SUMMARY =
  /^parsed (\d+) files?: (\d+) lines, (\d+) rows, (\d+) rejects, [\d.]+ MB in [\d.]+ s \([\d.]+ MB\/s\)$/m;

function cli(args: string[], stdin?: string | Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

let dir: string;
const lines: string[] = [];
// A line whose User-Agent holds a comma and quotes, to check CSV quoting.
const tricky =
  'ownerid9 bucket-z [14/Mar/2024:09:26:53 +0200] 198.51.100.7 - Q8D3K2M1ZX7P4R5T REST.GET.OBJECT a.txt ' +
  '"GET /a.txt HTTP/1.1" 200 - 10 10 5 4 "-" "say "hi", then go" - hostid1= SigV4 c AuthHeader e TLSv1.3 - Yes';

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'parse-cli-'));
  for (const l of generateLines({ seed: 5 })) {
    lines.push(l);
    if (lines.length === 50) break;
  }
  mkdirSync(path.join(dir, 'logs/2024'), { recursive: true });
  writeFileSync(path.join(dir, 'logs/2024/a.log'), `${lines.slice(0, 30).join('\n')}\nthis is not a log line\n`);
  writeFileSync(path.join(dir, 'logs/b.gz'), gzipSync(`${lines.slice(30).join('\r\n')}\r\n`));
  writeFileSync(path.join(dir, 'tricky.log'), `${tricky}\n`);
  writeFileSync(
    path.join(dir, 'corrupt.gz'),
    Buffer.concat([gzipSync(lines.join('\n')).subarray(0, 10), Buffer.alloc(50, 0xff)]),
  );
  const gz = gzipSync(lines.join('\n'));
  writeFileSync(path.join(dir, 'truncated.gz'), gz.subarray(0, gz.length - 200));
  writeFileSync(path.join(dir, 'notes.txt'), 'shopping list\n\nmilk, eggs\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each spawn is a whole process; they are independent, so run them side by side.
describe.concurrent('s3-access-logs parse', () => {
  it('writes NDJSON rows with logkey and logline for files and directories (gzip too), rejects to --rejects', async () => {
    const rejects = path.join(dir, 'rejects.ndjson');
    const logs = path.join(dir, 'logs');
    const r = await cli(['parse', logs, '--rejects', rejects]);
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(50);
    expect(Object.keys(rows[0]!)).toEqual([...COLUMNS, 'logkey', 'logline']);
    expect(rows[0]).toMatchObject({ logkey: path.join(logs, '2024/a.log'), logline: 1 });
    expect(rows[30]).toMatchObject({ logkey: path.join(logs, 'b.gz'), logline: 1 });
    const first = parseLine(lines[0]!);
    expect(first.ok && { ...first.row, logkey: path.join(logs, '2024/a.log'), logline: 1 }).toEqual(rows[0]);
    expect(
      readFileSync(rejects, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { logkey: path.join(logs, '2024/a.log'), logline: 31, reason: 'bad_time', rawline: 'this is not a log line' },
    ]);
    const m = SUMMARY.exec(r.stderr);
    expect(m?.slice(1, 5)).toEqual(['2', '51', '50', '1']);
  });

  it('writes CSV with a header row, quoting where needed', async () => {
    const r = await cli(['parse', '--format', 'csv', path.join(dir, 'tricky.log')]);
    expect(r.code).toBe(0);
    const [header, row, end] = r.stdout.split('\n');
    expect(header).toBe([...COLUMNS, 'logkey', 'logline'].join(','));
    expect(row).toContain(',2024-03-14T07:26:53Z,');
    expect(row).toContain(',"say ""hi"", then go",');
    expect(row!.endsWith(`,true,,,${path.join(dir, 'tricky.log')},1`)).toBe(true);
    expect(end).toBe('');
  });

  it('reads stdin for -', async () => {
    const r = await cli(['parse', '-'], `${lines[0]}\n${lines[1]}\n`);
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { logkey: string; logline: number });
    expect(rows.map((x) => [x.logkey, x.logline])).toEqual([
      ['-', 1],
      ['-', 2],
    ]);
    expect(SUMMARY.exec(r.stderr)?.slice(1, 5)).toEqual(['1', '2', '2', '0']);
  });

  it('exits 1 naming an input that cannot be read', async () => {
    const missing = path.join(dir, 'nope.log');
    const r = await cli(['parse', path.join(dir, 'tricky.log'), missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`s3-access-logs: ${missing} does not exist; check the path.\n`);
    expect(r.stdout).toBe('');
  });

  it('records a corrupt gzip input as a reject after its decodable lines (as the Lambda does)', async () => {
    const rejects = path.join(dir, 'corrupt-rejects.ndjson');
    const r = await cli(['parse', path.join(dir, 'corrupt.gz'), '--rejects', rejects]);
    expect(r.code).toBe(0);
    const recorded = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string });
    // 30 bytes of a member, then bytes that zlib reads as deflate until they run out, or rejects.
    expect(recorded.at(-1)!.reason).toMatch(/^(corrupt|truncated)_gzip$/);
    // ... and says so in words, never as Z_DATA_ERROR.
    expect(r.stderr).toMatch(
      new RegExp(
        `s3-access-logs: warning: ${path.join(dir, 'corrupt.gz').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a (truncated gzip file|gzip file whose compressed data is corrupt)`,
      ),
    );
    expect(r.stderr).not.toMatch(/Z_BUF_ERROR|Z_DATA_ERROR/);
  });

  it('parses a truncated gzip input up to the cut and says so in words', async () => {
    const file = path.join(dir, 'truncated.gz');
    const r = await cli(['parse', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `s3-access-logs: warning: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a truncated gzip file \\(it ends before its compressed data does\\): the lines before the damage were parsed, and line \\d+ is a truncated_gzip reject; fetch the file again to get the rest\\.\n`,
      ),
    );
    expect(r.stderr).not.toMatch(/Z_BUF_ERROR|Z_DATA_ERROR/);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(0);
  });

  it('warns when an input yields only rejects, and still exits 0', async () => {
    const file = path.join(dir, 'notes.txt');
    const r = await cli(['parse', file, path.join(dir, 'tricky.log')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `s3-access-logs: warning: ${file} does not look like an S3 server access log: none of its 2 lines parsed (first reason: too_few_fields).\n`,
    );
    expect(r.stderr).not.toContain('tricky.log does not look like');
    expect(SUMMARY.exec(r.stderr)?.slice(1, 5)).toEqual(['2', '3', '1', '2']);
  });

  it("exits 2 on a usage error, pointing at the command's own help instead of dumping the usage", async () => {
    const bad = await cli(['parse', '--format', 'xml', path.join(dir, 'tricky.log')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/argument 'xml' is invalid/);
    expect(bad.stderr).toContain('Run "s3-access-logs parse --help" for usage.');
    expect(bad.stderr).not.toContain('Usage:');
    const none = await cli(['parse']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing required argument/);
  });
});
