/**
 * `npm run bench:parse-cli`: `s3-access-logs parse` as a whole process (start-up, read, gunzip
 * detection, decode, parse, NDJSON out to /dev/null), against two Python baselines run as whole
 * processes over the same generated file, in one run:
 *   - the seed quickstart's UDTF (../shared/seed/seed_udtf.py), process(line) per line as Snowflake
 *     drives it;
 *   - Python's `re` with the regex of the Athena table AWS documents for server access logs
 *     ("Querying access logs for requests by using Amazon Athena", S3 User Guide), match + groups().
 * Both Python drivers only count their tuples: they write nothing and type nothing, which favours
 * them. Rounds alternate the three, and each reports its best wall and CPU (user + sys) time.
 * With --rss it also records the peak RSS of `parse` streaming a ~1 GB file (goal < 200 MB).
 *
 *   npm run bench:parse-cli                       # print only
 *   npm run bench:parse-cli -- --write --rss      # ... and record bench/results/parse-cli.json
 *   BENCH_MB=20 ROUNDS=2 npm run bench:parse-cli  # quick look
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLogFile } from '../local/sample/lines.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seedDir = path.resolve(repoRoot, '../shared/seed');
const bin = path.join(repoRoot, 'bin/s3-access-logs.mjs');
const resultsFile = path.join(repoRoot, 'bench/results/parse-cli.json');
const args = new Set(process.argv.slice(2));
const targetMb = Number(process.env.BENCH_MB ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

// The RegexSerDe input.regex of AWS's Athena DDL for server access logs (26 columns).
export const ATHENA_REGEX =
  '([^ ]*) ([^ ]*) \\[(.*?)\\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) (-|[0-9]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) ([^ ]*)(?: ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*))?.*$';

const PY_RE = `
import re, sys
P = re.compile(sys.argv[2])
rows = 0
with open(sys.argv[1], encoding='utf-8', errors='replace') as f:
    for line in f:
        m = P.match(line.rstrip('\\n'))
        if m is not None:
            m.groups()
            rows += 1
print(rows, file=sys.stderr)
`;

const PY_UDTF = `
import sys
sys.path.insert(0, sys.argv[2])
from seed_udtf import S3AccessLogParser
p = S3AccessLogParser()
rows = 0
with open(sys.argv[1], encoding='utf-8', errors='replace') as f:
    for line in f:
        for t in p.process(line.rstrip('\\n')):
            rows += 1
print(rows, file=sys.stderr)
`;

interface Run {
  wall: number;
  cpu: number;
  rssMB: number;
}

/** One whole process under /usr/bin/time; stdout to /dev/null. */
function timed(argv: string[]): Run & { stderr: string } {
  const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('sh', ['-c', `/usr/bin/time -f 'TIME %e %U %S %M' ${quoted} > /dev/null`], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${argv.join(' ')} failed: ${r.stderr.slice(-500)}`);
  return {
    wall: Number(m[1]),
    cpu: Number(m[2]) + Number(m[3]),
    rssMB: +(Number(m[4]) / 1024).toFixed(1),
    stderr: r.stderr,
  };
}

async function main(): Promise<void> {
  if (!existsSync(path.join(repoRoot, 'dist/cli/main.mjs')))
    throw new Error('dist/cli/ is missing: run "npm run build:cli" (npm ci does it) first.');
  const hasPython = spawnSync('python3', ['--version']).status === 0 && existsSync(path.join(seedDir, 'seed_udtf.py'));
  const file = path.join(os.tmpdir(), `s3-access-logs-parse-cli-${process.pid}.log`);
  const big = path.join(os.tmpdir(), `s3-access-logs-parse-cli-rss-${process.pid}.log`);
  try {
    const bytes = await writeLogFile(file, targetMb * 1e6, { seed: 1 });
    console.log(`generated ${(bytes / 1e6).toFixed(1)} MB (local/sample/lines.ts, seed 1)`);
    const cases: Record<string, string[]> = { parse: [process.execPath, bin, 'parse', file] };
    if (hasPython) {
      cases.seedUdtfPython = ['python3', '-c', PY_UDTF, file, seedDir];
      cases.athenaRegexPython = ['python3', '-c', PY_RE, file, ATHENA_REGEX];
    }
    const runs: Record<string, Run[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const [name, argv] of Object.entries(cases)) {
        const r = timed(argv);
        runs[name]!.push(r);
        line.push(`${name} ${r.wall.toFixed(2)} s wall / ${r.cpu.toFixed(2)} s CPU`);
      }
      console.log(`  round ${round}: ${line.join(', ')}`);
    }
    const best = Object.fromEntries(
      Object.entries(runs).map(([k, rs]) => {
        const wall = Math.min(...rs.map((r) => r.wall));
        const cpu = Math.min(...rs.map((r) => r.cpu));
        return [
          k,
          {
            wallSeconds: wall,
            cpuSeconds: +cpu.toFixed(2),
            wallMBps: +(bytes / 1e6 / wall).toFixed(1),
            peakRssMB: Math.max(...rs.map((r) => r.rssMB)),
          },
        ];
      }),
    );
    const ratio = (other: string, key: 'wallSeconds' | 'cpuSeconds') =>
      best[other] ? +(best[other]![key] / best.parse![key]).toFixed(2) : null;
    // Judged on CPU time: on a shared machine the wall times mostly measure the neighbours.
    const goal = (cpu: number | null, min: number) => (cpu === null ? null : cpu >= min);
    const udtfCpu = ratio('seedUdtfPython', 'cpuSeconds');
    const reCpu = ratio('athenaRegexPython', 'cpuSeconds');
    const ratios = {
      vsSeedUdtf: {
        wall: ratio('seedUdtfPython', 'wallSeconds'),
        cpu: udtfCpu,
        goal: '>= 3x (CPU time)',
        met: goal(udtfCpu, 3),
      },
      vsAthenaRegex: {
        wall: ratio('athenaRegexPython', 'wallSeconds'),
        cpu: reCpu,
        goal: '>= 1.5x (CPU time)',
        met: goal(reCpu, 1.5),
      },
    };

    let rss: Record<string, unknown> | null = null;
    if (args.has('--rss')) {
      const bigBytes = await writeLogFile(big, 1024 ** 3, { seed: 7 });
      const r = timed([process.execPath, bin, 'parse', big, '--rejects', '/dev/null']);
      rss = {
        inputBytes: bigBytes,
        peakRssMB: r.rssMB,
        wallSeconds: r.wall,
        goalMB: 200,
        met: r.rssMB < 200,
        cliSummary: /^parsed .*$/m.exec(r.stderr)?.[0] ?? null,
      };
    }

    console.log(
      `\nbest of ${ROUNDS} rounds on ${(bytes / 1e6).toFixed(1)} MB (load ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')})`,
    );
    for (const [k, b] of Object.entries(best)) {
      console.log(
        `  ${k.padEnd(20)} ${b.wallSeconds.toFixed(2)} s wall (${b.wallMBps} MB/s), ${b.cpuSeconds.toFixed(2)} s CPU, peak RSS ${b.peakRssMB} MB`,
      );
    }
    console.log(`  parse vs seed UDTF:    ${ratios.vsSeedUdtf.wall}x wall, ${ratios.vsSeedUdtf.cpu}x CPU (goal >= 3x)`);
    console.log(
      `  parse vs Athena regex: ${ratios.vsAthenaRegex.wall}x wall, ${ratios.vsAthenaRegex.cpu}x CPU (goal >= 1.5x)`,
    );
    if (rss)
      console.log(
        `  peak RSS of parse over ${((rss.inputBytes as number) / 1e9).toFixed(2)} GB: ${String(rss.peakRssMB)} MB (goal < 200 MB)`,
      );

    if (args.has('--write')) {
      const result = {
        benchmark: 'parse-cli',
        date: new Date().toISOString(),
        machine: {
          cpu: os.cpus()[0]?.model ?? 'unknown',
          cores: os.cpus().length,
          node: process.version,
          python: spawnSync('python3', ['--version'], { encoding: 'utf8' }).stdout.trim() || null,
          loadAverageAtEnd: os.loadavg().map((x) => +x.toFixed(1)),
          note: 'shared 2-core machine with other users: wall times include their load; CPU time (user + sys) is what each process cost',
        },
        input: { generator: 'local/sample/lines.ts seed 1', bytes },
        rounds: ROUNDS,
        cases: {
          parse: { ...best.parse, command: 'node bin/s3-access-logs.mjs parse FILE > /dev/null (NDJSON)' },
          ...(best.seedUdtfPython
            ? {
                seedUdtfPython: {
                  ...best.seedUdtfPython,
                  command:
                    'python3: seed_udtf.S3AccessLogParser().process(line) per line, tuples counted, nothing written',
                },
              }
            : {}),
          ...(best.athenaRegexPython
            ? {
                athenaRegexPython: {
                  ...best.athenaRegexPython,
                  command: 'python3: re.compile(Athena input.regex).match(line).groups() per line, nothing written',
                },
              }
            : {}),
        },
        ratios,
        rss,
        command: 'npm run bench:parse-cli -- --write --rss',
      };
      writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`wrote ${path.relative(repoRoot, resultsFile)}`);
    }
  } finally {
    rmSync(file, { force: true });
    rmSync(big, { force: true });
  }
}

await main();
