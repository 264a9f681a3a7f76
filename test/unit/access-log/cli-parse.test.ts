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
    Buffer.concat([gzipSync(lines.join('\n')).subarray(0, 30), Buffer.alloc(50, 9)]),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each spawn pays tsx start-up (~1.5 s); they are independent, so run them side by side.
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
    expect(r.stderr).toContain(`cannot read input ${missing}`);
    expect(r.stdout).toBe('');
  });

  it('exits 1 naming a corrupt gzip input', async () => {
    const r = await cli(['parse', path.join(dir, 'corrupt.gz')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read input ${path.join(dir, 'corrupt.gz')}`);
  });

  it('exits 2 with usage on a usage error', async () => {
    const bad = await cli(['parse', '--format', 'xml', path.join(dir, 'tricky.log')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/argument 'xml' is invalid/);
    expect(bad.stderr).toContain('Usage: s3-access-logs parse');
    const none = await cli(['parse']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing required argument/);
  });
});
