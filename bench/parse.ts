/**
 * `npm run bench:parse`: how fast the parser turns log lines into typed rows, against the seed
 * quickstart's regex ported to JS (same typing) and the seed's Python UDTF itself, on ~100 MB of
 * deterministic realistic lines; plus the peak RSS of `s3-access-logs parse` over a ~1 GB file.
 * One run; with --write, results (with the machine) go to bench/results/parse.json.
 * (`npm run bench:parse-cli` measures the whole `parse` process against the Python baselines.)
 *
 *   npm run bench:parse                      # everything, printed (the RSS step writes and deletes ~1 GB in /tmp)
 *   npm run bench:parse -- --write           # ... and recorded
 *   npm run bench:parse -- --skip-rss        # keep the last recorded RSS measurement
 *   BENCH_MB=20 npm run bench:parse -- --skip-rss   # quick look
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseLine, readLogLines } from '../shared/access-log/index.ts';
import { generateText, writeLogFile } from '../local/sample/lines.ts';
import { seedRegexParse } from './seed-regex.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seedDir = path.resolve(repoRoot, '../shared/seed');
const resultsFile = path.join(repoRoot, 'bench/results/parse.json');
const args = new Set(process.argv.slice(2));
const targetMb = Number(process.env.BENCH_MB ?? 100);
const ROUNDS = 5;

/**
 * Rates from CPU time (user + system of this process, which includes V8's GC threads) and from
 * wall time. The machine is shared by several busy users, so wall time mostly measures the
 * neighbours; CPU time is what each implementation costs, and the goals are judged on it.
 */
interface Rate {
  lines: number;
  rows: number;
  cpuSeconds: number;
  wallSeconds: number;
  linesPerSec: number;
  mbPerSec: number;
  wallLinesPerSec: number;
}
const rate = (lines: number, rows: number, bytes: number, cpuSeconds: number, wallSeconds: number): Rate => ({
  lines,
  rows,
  cpuSeconds: +cpuSeconds.toFixed(3),
  wallSeconds: +wallSeconds.toFixed(3),
  linesPerSec: Math.round(lines / cpuSeconds),
  mbPerSec: +(bytes / 1e6 / cpuSeconds).toFixed(1),
  wallLinesPerSec: Math.round(lines / wallSeconds),
});
// The best of several rounds: on a shared machine noise only ever adds time.
const best = (xs: number[]) => Math.min(...xs);
const now = () => Number(process.hrtime.bigint()) / 1e9;
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// Both in-memory loops consume the rows, so nothing is optimised away.
function runOurs(lines: string[]): { rows: number; check: number } {
  let rows = 0;
  let check = 0;
  for (let i = 0; i < lines.length; i++) {
    const r = parseLine(lines[i]!);
    if (r.ok) {
      rows++;
      check += (r.row.bytessent ?? 0) + r.row.requestdatetime.length;
    }
  }
  return { rows, check };
}
function runSeedRegex(lines: string[]): { rows: number; check: number } {
  let rows = 0;
  let check = 0;
  for (let i = 0; i < lines.length; i++) {
    const r = seedRegexParse(lines[i]!);
    if (r !== null) {
      rows++;
      check += (r.bytessent ?? 0) + r.requestdatetime.length;
    }
  }
  return { rows, check };
}

async function runStreaming(text: Buffer): Promise<{ lines: number; rows: number; seconds: number; cpu: number }> {
  function* chunks() {
    for (let i = 0; i < text.length; i += 65536) yield text.subarray(i, i + 65536);
  }
  const t0 = now();
  const c0 = cpuNow();
  let lines = 0;
  let rows = 0;
  for await (const p of readLogLines(Readable.from(chunks()))) {
    lines++;
    if (p.result.ok) rows++;
  }
  return { lines, rows, seconds: now() - t0, cpu: cpuNow() - c0 };
}

const PY_HARNESS = `
import json, sys, time
sys.path.insert(0, sys.argv[1])
from seed_udtf import S3AccessLogParser
p = S3AccessLogParser()
with open(sys.argv[2], encoding='utf-8') as f:
    lines = f.read().split('\\n')
if lines and lines[-1] == '':
    lines.pop()
best = None
for round in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    c0 = time.process_time()
    rows = 0
    for line in lines:
        for t in p.process(line):
            rows += 1
    r = {'seconds': time.perf_counter() - t0, 'cpu': time.process_time() - c0, 'lines': len(lines), 'rows': rows}
    if best is None or r['cpu'] < best['cpu']:
        best = r
print(json.dumps(best))
`;

function runPython(file: string): { lines: number; rows: number; seconds: number; cpu: number } | { skipped: string } {
  if (spawnSync('python3', ['--version']).status !== 0) return { skipped: 'python3 not found' };
  if (!existsSync(path.join(seedDir, 'seed_udtf.py'))) return { skipped: `seed_udtf.py not found in ${seedDir}` };
  // Same number of rounds as the JS loops: a best-of-N favours the side that gets more tries.
  const r = spawnSync('python3', ['-c', PY_HARNESS, seedDir, file, String(ROUNDS)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) return { skipped: `python3 failed: ${r.stderr.slice(0, 300)}` };
  return JSON.parse(r.stdout) as { lines: number; rows: number; seconds: number; cpu: number };
}

/** Peak RSS of the real CLI streaming a ~1 GB file (stdout and rejects to /dev/null). */
async function measureRss(): Promise<Record<string, unknown>> {
  const file = path.join(os.tmpdir(), `s3-access-logs-rss-${process.pid}.log`);
  try {
    const t0 = now();
    const bytes = await writeLogFile(file, 1024 ** 3, { seed: 7 });
    console.log(`  generated ${(bytes / 1e9).toFixed(2)} GB in ${(now() - t0).toFixed(1)} s`);
    const bin = path.join(repoRoot, 'bin/s3-access-logs.mjs');
    const cmd = `/usr/bin/time -v ${process.execPath} ${bin} parse ${file} --rejects /dev/null > /dev/null`;
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const maxRssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
    const summary = /^parsed .*$/m.exec(r.stderr)?.[0] ?? null;
    if (r.status !== 0 || !Number.isFinite(maxRssKb)) throw new Error(`parse run failed: ${r.stderr.slice(-500)}`);
    return {
      command: `/usr/bin/time -v node bin/s3-access-logs.mjs parse <${(bytes / 1e9).toFixed(2)} GB file> --rejects /dev/null > /dev/null`,
      inputBytes: bytes,
      peakRssMB: +(maxRssKb / 1024).toFixed(1),
      goalMB: 200,
      met: maxRssKb / 1024 < 200,
      cliSummary: summary,
    };
  } finally {
    rmSync(file, { force: true });
  }
}

/** Why (c) can stay under 10x: said in the results whenever it happens. */
const PYTHON_MISS_NOTE = (x: number) =>
  `missed by ${Math.round((1 - x / 10) * 100)}% (${x}x of 10x). The seed UDTF runs CPython's C regex engine and ` +
  'returns 24 raw strings, leaving typing to Snowflake SQL and silently dropping lines it cannot match; (a) ' +
  'validates and types every column (ISO time with offset, safe integers, nulls, aclrequired) and builds a ' +
  '28-column row object per line. Profiled (node --cpu-prof and ablation), building the row and its ~20 ' +
  'strings is under 10% of (a) and GC about 1%; the cost is finding ~27 field boundaries in a ~700-char ' +
  'line: ~20 String.indexOf calls (a fast memchr behind ~20 ns of call overhead each), copying the line into ' +
  'a code-unit buffer (~12%; charCodeAt on the sliced line strings is several times slower), and the ' +
  `per-character checks (numbers, operation, time). Reaching 10x needs ${(10 / x).toFixed(2)}x less CPU per line; ` +
  'the remaining route is a different design (scan the UTF-8 bytes of a whole chunk, e.g. in ' +
  'WebAssembly with SIMD, and materialise strings lazily), not tuning this loop.';

async function main() {
  console.log(`generating ~${targetMb} MB of lines (seed 1)…`);
  const text = generateText(targetMb * 1e6, { seed: 1 });
  const bytes = Buffer.byteLength(text);
  const lines = text.split('\n');
  lines.pop();
  console.log(`  ${lines.length} lines, ${(bytes / 1e6).toFixed(1)} MB`);

  // Warm up both (JIT), then alternate rounds so machine noise hits both alike; report the best round of each.
  runOurs(lines.slice(0, 20_000));
  runSeedRegex(lines.slice(0, 20_000));
  const oursT: number[] = [];
  const oursC: number[] = [];
  const regexT: number[] = [];
  const regexC: number[] = [];
  let oursRows = 0;
  let regexRows = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = now();
    let c0 = cpuNow();
    oursRows = runOurs(lines).rows;
    oursC.push(cpuNow() - c0);
    oursT.push(now() - t0);
    t0 = now();
    c0 = cpuNow();
    regexRows = runSeedRegex(lines).rows;
    regexC.push(cpuNow() - c0);
    regexT.push(now() - t0);
    console.log(
      `  round ${r + 1}: parser ${oursC[r]!.toFixed(2)} s CPU (${oursT[r]!.toFixed(2)} s wall), ` +
        `seed regex (JS) ${regexC[r]!.toFixed(2)} s CPU (${regexT[r]!.toFixed(2)} s wall)`,
    );
  }
  const ours = rate(lines.length, oursRows, bytes, best(oursC), best(oursT));
  const regex = rate(lines.length, regexRows, bytes, best(regexC), best(regexT));

  console.log('streaming through readLogLines (decode + split + parse)…');
  const textBuf = Buffer.from(text);
  const st = await runStreaming(textBuf);
  const streaming = rate(st.lines, st.rows, bytes, st.cpu, st.seconds);

  console.log('seed UDTF through python3…');
  const tmp = path.join(os.tmpdir(), `s3-access-logs-bench-${process.pid}.log`);
  writeFileSync(tmp, textBuf);
  let python: Rate | { skipped: string };
  try {
    const py = runPython(tmp);
    python = 'skipped' in py ? py : rate(py.lines, py.rows, bytes, py.cpu, py.seconds);
  } finally {
    rmSync(tmp, { force: true });
  }

  let rss: Record<string, unknown> | null = null;
  if (!args.has('--skip-rss')) {
    console.log('peak RSS of `parse` over ~1 GB…');
    rss = await measureRss();
  } else if (existsSync(resultsFile)) {
    rss = (JSON.parse(readFileSync(resultsFile, 'utf8')) as { rss?: Record<string, unknown> }).rss ?? null;
  }

  const vsRegex = +(ours.linesPerSec / regex.linesPerSec).toFixed(2);
  const vsPython = 'skipped' in python ? null : +(ours.linesPerSec / python.linesPerSec).toFixed(1);
  const vsRegexWall = +(ours.wallLinesPerSec / regex.wallLinesPerSec).toFixed(2);
  const vsPythonWall = 'skipped' in python ? null : +(ours.wallLinesPerSec / python.wallLinesPerSec).toFixed(1);
  const load = os.loadavg().map((x) => +x.toFixed(1));
  const result = {
    benchmark: 'parse',
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      loadAverageAtEnd: load,
      note: 'shared machine (2 cores, several concurrent users): rates and ratios use CPU time; wall-time figures are given too and mostly reflect the load',
    },
    input: {
      generator: 'local/sample/lines.ts seed 1',
      lines: lines.length,
      bytes,
      avgLineBytes: Math.round(bytes / lines.length),
    },
    rounds: ROUNDS,
    results: {
      parser: { ...ours, what: 'parseLine → typed AccessLogRow, in memory (best of 5 rounds)' },
      seedRegexJs: {
        ...regex,
        what: 'seed UDTF regex ported to JS + same typing (best of 5 rounds); drops lines it cannot match',
      },
      parserStreaming: {
        ...streaming,
        what: 'readLogLines over 64 KiB Buffer chunks: UTF-8 decode + line split + parseLine',
      },
      seedUdtfPython:
        'skipped' in python
          ? python
          : {
              ...python,
              what: `seed_udtf.py process() per line (best of ${ROUNDS} rounds) in python3 ${spawnSync('python3', ['--version'], { encoding: 'utf8' }).stdout.trim()} (timed inside Python with process_time and perf_counter; no typing: the seed leaves it to SQL)`,
            },
    },
    ratios: {
      parserVsSeedRegexJs: vsRegex,
      parserVsSeedUdtfPython: vsPython,
      wallTime: { parserVsSeedRegexJs: vsRegexWall, parserVsSeedUdtfPython: vsPythonWall },
    },
    goals: {
      vsPython: {
        goal: '>= 10x',
        actual: vsPython,
        met: vsPython === null ? null : vsPython >= 10,
        ...(vsPython !== null && vsPython < 10 ? { note: PYTHON_MISS_NOTE(vsPython) } : {}),
      },
      vsRegexJs: { goal: '>= 1.5x', actual: vsRegex, met: vsRegex >= 1.5 },
      rssAt1GB: { goal: '< 200 MB', actualMB: rss?.peakRssMB ?? null, met: rss?.met ?? null },
    },
    rss,
    command: 'npm run bench:parse -- --write',
  };

  const fmt = (name: string, r: Rate | { skipped: string }) =>
    'skipped' in r
      ? `  ${name.padEnd(34)} skipped: ${r.skipped}`
      : `  ${name.padEnd(30)} ${String(r.linesPerSec).padStart(8)} lines/s ${String(r.mbPerSec).padStart(6)} MB/s (CPU time; wall ${r.wallLinesPerSec} lines/s)  ${r.rows} rows of ${r.lines}`;
  console.log('\nresults');
  console.log(fmt('(a) parser', ours));
  console.log(fmt('(b) seed regex, JS port', regex));
  console.log(fmt('(c) seed UDTF, python3', python));
  console.log(fmt('(a) streaming readLogLines', streaming));
  console.log(`  ratios (CPU time): (a)/(b) = ${vsRegex}x (goal ≥ 1.5x), (a)/(c) = ${vsPython ?? 'n/a'}x (goal ≥ 10x)`);
  console.log(
    `  ratios (wall time, load ${load.join(' ')}): (a)/(b) = ${vsRegexWall}x, (a)/(c) = ${vsPythonWall ?? 'n/a'}x`,
  );
  if (rss) console.log(`  peak RSS parsing ~1 GB: ${String(rss.peakRssMB)} MB (goal < 200 MB)`);
  if (args.has('--write')) {
    writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${path.relative(repoRoot, resultsFile)}`);
  }
}

await main();
