/**
 * Runs load-child.ts the way Lambda runs the function: bundled by esbuild, executed by plain node
 * (no tsx loader thread in the RSS), and returns its one-line JSON report.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { BatchSummary } from '../../functions/ingest/observability.ts';

export interface LoadChildInput {
  endpoint: string;
  /** snowflake-local's URL: the `insert` method (and forced replays). */
  snowflakeUrl?: string;
  /** The `pipe` method's staging location; absent = `insert`. */
  staging?: { bucket: string; prefix: string };
  object: { bucket: string; key: string; size: number; etag: string };
}

/** What the child prints (one JSON line). */
export interface LoadChildReport {
  response: { batchItemFailures: Array<{ itemIdentifier: string }> };
  summary?: BatchSummary;
  seconds: number;
  maxRssMb: number;
  /** Peak RSS of the child's process image (VmHWM). */
  vmHwmMb: number;
  peakMb: Record<string, number>;
  retainedHeapMb?: number;
  rssAtStartMb: number;
  rssTimeline: number[];
}

const here = path.dirname(fileURLToPath(import.meta.url));

export async function runLoadChild(
  input: LoadChildInput,
  nodeArgs: string[] = [],
): Promise<{ log: string[]; report: LoadChildReport }> {
  const bundleDir = mkdtempSync(path.join(os.tmpdir(), 'ingest-load-'));
  try {
    const childFile = path.join(bundleDir, 'child.mjs');
    await build({
      entryPoints: [path.join(here, 'load-child.ts')],
      outfile: childFile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      banner: {
        js: [
          "import { createRequire as __cr } from 'node:module';",
          "import { fileURLToPath as __fu } from 'node:url';",
          "import { dirname as __dn } from 'node:path';",
          'const require = __cr(import.meta.url);',
          'const __filename = __fu(import.meta.url);',
          'const __dirname = __dn(__filename);',
        ].join('\n'),
      },
    });
    const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, childFile, JSON.stringify(input)], {
      maxBuffer: 16 << 20,
    });
    const lines = stdout.trim().split('\n');
    const report = JSON.parse(lines.pop()!) as LoadChildReport;
    return { log: lines, report };
  } finally {
    rmSync(bundleDir, { recursive: true, force: true });
  }
}
