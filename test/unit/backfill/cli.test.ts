import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatSummary, payloadFrom } from '../../../cli/backfill.ts';
import type { BackfillSummary } from '../../../functions/backfill/core.ts';

const run = promisify(execFile);
const bin = new URL('../../../bin/s3-access-logs.mjs', import.meta.url).pathname;

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('backfill CLI', () => {
  it('maps flags to the payload', () => {
    expect(
      payloadFrom({ from: '2026-11-01', to: '2026-11-02', prefix: 'p/', bucket: 'b', dryRun: true, force: true, maxObjects: '50', function: 'f', dataDir: '.local' }),
    ).toEqual({ from: '2026-11-01', to: '2026-11-02', prefix: 'p/', bucket: 'b', dryRun: true, force: true, maxObjects: 50 });
    expect(payloadFrom({ redriveDlq: true, function: 'f', dataDir: '.local' })).toEqual({ redriveDlq: true });
  });

  it('prints the summary with the padding', () => {
    const s: BackfillSummary = {
      id: 'backfill-1',
      bucket: 'b',
      prefix: 'logs/',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-03T00:00:00.000Z',
      dryRun: false,
      force: false,
      invocation: 1,
      listed: 120,
      selected: 100,
      alreadyLoaded: 40,
      enqueued: 60,
      ignored: 2,
      listCalls: 9,
      prefixesPlanned: 4,
      partitionRoots: 1,
      padding: { beforeMinutes: 60, afterMinutes: 360, keyTimeFrom: '2026-10-31T23:00:00.000Z', keyTimeTo: '2026-11-03T06:00:00.000Z', note: '' },
      truncated: false,
      done: true,
      durationMs: 5,
    };
    const text = formatSummary(s);
    expect(text).toContain('padded 60 min before, 360 min after');
    expect(text).toContain('listed 120 object(s) with 9 LIST call(s) over 4 prefix(es), 2 not log objects');
    expect(text).toContain('selected 100: 40 already loaded, 60 enqueued');
  });

  it('exits 2 on a bad flag value and 1 when no local stack runs', async () => {
    const bad = await cli('backfill', '--max-objects', 'many', '--local');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-objects must be a positive whole number');
    const none = await cli('backfill', '--from', '2026-11-01', '--local', '--data-dir', '/nonexistent-dir-for-test');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('npm start');
  });
});
