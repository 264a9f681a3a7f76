/**
 * Runs the seed quickstart's Python UDTF (`../shared/seed/seed_udtf.py`) over many lines in ONE
 * python3 process, the way Snowflake calls it: process(line) once per staged line. Returns, per
 * line, the first tuple it yields (24 strings or None) or null when it yields nothing (the seed
 * drops the line silently).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Column } from '../../shared/access-log/columns.ts';
import { COLUMNS, s3TimeToIso } from '../../shared/access-log/index.ts';

/** A column the seed returns: every one but the four fields S3 added after it was written. */
export type SeedColumn = Exclude<Column, 'accesspointarn' | 'aclrequired' | 'sourceregion' | 'extrafields'>;
/**
 * The seed UDTF's RETURNS TABLE: our first 24 columns, in the same order (the parity test reads the
 * seed's own list from seed_udtf.py and checks it).
 */
export const SEED_COLUMNS = COLUMNS.slice(0, 24) as readonly SeedColumn[];

const HARNESS = `
import json, sys
sys.path.insert(0, sys.argv[1])
from seed_udtf import S3AccessLogParser
p = S3AccessLogParser()
lines = json.load(sys.stdin)
out = []
for line in lines:
    rows = list(p.process(line))
    out.append(list(rows[0]) if rows else None)
sys.stdout.write(json.dumps(out, ensure_ascii=False))
`;

export function python3Available(): boolean {
  return spawnSync('python3', ['--version']).status === 0;
}

export function runSeedUdtf(seedDir: string, lines: string[]): Array<Array<string | null> | null> {
  if (!existsSync(path.join(seedDir, 'seed_udtf.py'))) throw new Error(`seed_udtf.py not found in ${seedDir}`);
  const r = spawnSync('python3', ['-c', HARNESS, seedDir], {
    input: JSON.stringify(lines),
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`python3 seed harness failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<Array<string | null> | null>;
}

const NUMERIC = new Set<SeedColumn>(['httpstatus', 'bytessent', 'objectsize', 'totaltime', 'turnaroundtime']);

/**
 * The seed's strings typed like our row: '' and None → null, numbers → integers, the time → ISO
 * UTC. A value that cannot be typed is returned as `{ untyped: value }` so it shows as a difference.
 */
export function typeSeedRow(t: Array<string | null>): Record<SeedColumn, unknown> {
  const out = {} as Record<SeedColumn, unknown>;
  SEED_COLUMNS.forEach((c, i) => {
    const v = t[i] ?? null;
    if (v === null || v === '') out[c] = null;
    else if (c === 'requestdatetime') out[c] = s3TimeToIso(v) ?? { untyped: v };
    else if (NUMERIC.has(c)) out[c] = /^\d{1,15}$/.test(v) ? Number(v) : { untyped: v };
    else out[c] = v;
  });
  return out;
}
