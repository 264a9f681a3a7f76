import { describe, expect, it } from 'vitest';
import {
  checkFlags,
  formatSummary,
  localBackfillConfig,
  payloadFrom,
  runLocal,
  type BackfillCliOptions,
} from '../../../cli/backfill.ts';
import { BACKFILL_DEFAULTS } from '../../../shared/config.ts';
import type { StackInfo } from '../../../local/stack-info.ts';
import { CliError } from '../../../cli/errors.ts';
import type { BackfillSummary } from '../../../functions/backfill/core.ts';

describe('backfill CLI', () => {
  it('maps flags to the payload', () => {
    expect(
      payloadFrom({
        from: '2026-11-01',
        to: '2026-11-02',
        prefix: 'p/',
        bucket: 'b',
        dryRun: true,
        force: true,
        maxObjects: '50',
        function: 'f',
        dataDir: '.local',
      }),
    ).toEqual({
      from: '2026-11-01',
      to: '2026-11-02',
      prefix: 'p/',
      bucket: 'b',
      dryRun: true,
      force: true,
      maxObjects: 50,
    });
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
      padding: {
        beforeMinutes: 60,
        afterMinutes: 360,
        keyTimeFrom: '2026-10-31T23:00:00.000Z',
        keyTimeTo: '2026-11-03T06:00:00.000Z',
        note: '',
      },
      truncated: false,
      done: true,
      durationMs: 5,
    };
    const text = formatSummary(s);
    expect(text).toContain('padded 60 min before, 360 min after');
    expect(text).toContain('listed 120 object(s) with 9 LIST call(s) over 4 prefix(es), 2 not log objects');
    expect(text).toContain('selected 100: 40 already loaded, 60 enqueued');
  });

  it('refuses a bad --max-objects (exit 2) and a missing local stack (exit 1)', async () => {
    const bad = (() => {
      try {
        payloadFrom({ maxObjects: 'many', function: 'f', dataDir: '.local' });
      } catch (err) {
        return err as CliError;
      }
      throw new Error('expected a CliError');
    })();
    expect(bad).toBeInstanceOf(CliError);
    expect(bad.exitCode).toBe(2);
    expect(bad.message).toBe('--max-objects must be a positive whole number, got "many".');

    const none = (await runLocal('/nonexistent-dir-for-test', { from: '2026-11-01' }).catch(
      (err: unknown) => err,
    )) as CliError;
    expect(none).toBeInstanceOf(CliError);
    expect(none.exitCode).toBe(1);
    expect(none.message).toMatch(/no local stack found: .*stack\.json does not exist.*Start one with "npm start"/);
  });

  it('checks the range flags on their own, naming the flags passed and echoing the values as typed', () => {
    const now = new Date('2026-11-20T12:00:00Z');
    const msg = (o: Partial<BackfillCliOptions>) => {
      try {
        checkFlags({ function: 'f', dataDir: '.local', ...o }, now);
      } catch (err) {
        expect((err as CliError).exitCode).toBe(2);
        return (err as CliError).message;
      }
      return 'ok';
    };
    expect(msg({ from: '2026-11-05', to: '2026-11-01' })).toBe(
      '--from 2026-11-05 is not before --to 2026-11-01; swap them or widen the range.',
    );
    expect(msg({ to: '2026-11-01' })).toBe(
      '--to 2026-11-01 needs --from: give the start of the range as well (e.g. --from 2026-11-01).',
    );
    expect(msg({})).toBe(
      '--from is required: give the range to replay (--from 2026-11-01 [--to 2026-11-02]), or pass --force to replay the whole prefix.',
    );
    expect(msg({ from: '2026-12-01' })).toBe('--from 2026-12-01 is in the future; without --to the range ends now.');
    expect(msg({ from: '2026-11-31' })).toBe(
      '--from "2026-11-31" is not a calendar date; use YYYY-MM-DD (a whole UTC day) or YYYY-MM-DDTHH:MM:SSZ.',
    );
    // The local stack's maximum is known here; the message blames the range, with what was typed.
    expect(msg({ local: true, from: '2026-01-01' })).toBe(
      'the range --from 2026-01-01 to now is 323.5 days, over the maximum of 31; narrow it or pass --force.',
    );
    expect(msg({ local: true, from: '2026-01-01', force: true })).toBe('ok');
    expect(msg({ redriveDlq: true, from: '2026-11-01' })).toBe(
      '--from cannot be combined with --redrive-dlq: a redrive moves every message of the DLQ.',
    );
    expect(msg({ from: '2026-11-01', to: '2026-11-02' })).toBe('ok');
  });
  it("--local: the backfill configuration comes from the function's own loader, on the stack's queues and warehouse", () => {
    const info: StackInfo = {
      awsEndpoint: 'http://127.0.0.1:4566',
      region: 'eu-west-1',
      snowflakeUrl: 'http://127.0.0.1:8085',
      logBucket: 'local-access-logs',
      logPrefix: 'logs/',
      queueUrl: 'http://127.0.0.1:4566/000000000000/access-logs',
      dlqUrl: 'http://127.0.0.1:4566/000000000000/access-logs-dlq',
      pid: 1,
      dataDir: '/tmp/stack',
      snowflake: { account: 'local', username: 'local', database: 'S3_ACCESS_LOGS', schema: 'PUBLIC' },
      startedAt: '2026-11-30T00:00:00.000Z',
    };
    expect(localBackfillConfig(info)).toMatchObject({
      logBucket: 'local-access-logs',
      logPrefix: 'logs/',
      allowedBuckets: [],
      queueUrl: info.queueUrl,
      dlqUrl: info.dlqUrl,
      region: 'eu-west-1',
      maxRangeDays: BACKFILL_DEFAULTS.maxRangeDays,
      paddingBeforeMs: BACKFILL_DEFAULTS.paddingBeforeMinutes * 60_000,
      paddingAfterMs: BACKFILL_DEFAULTS.paddingAfterMinutes * 60_000,
      safetyMarginMs: BACKFILL_DEFAULTS.safetyMarginSeconds * 1000,
      snowflake: {
        kind: 'env',
        credentials: {
          account: 'local',
          username: 'local',
          password: 'local',
          database: 'S3_ACCESS_LOGS',
          schema: 'PUBLIC',
          accessUrl: 'http://127.0.0.1:8085',
        },
      },
      logLevel: 'INFO',
    });
    // A stack file the loader rejects is one sentence naming the problem, not a stack trace.
    expect(() => localBackfillConfig({ ...info, queueUrl: 'not a url' })).toThrow(
      /^the local stack in \/tmp\/stack gives the backfill an invalid configuration \(.*BACKFILL_QUEUE_URL.*\); restart it with "npm start"\.$/,
    );
  });
});
