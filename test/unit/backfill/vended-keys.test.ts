import { describe, expect, it } from 'vitest';
import { isAllowedObject, loadBackfillConfig, loadIngestConfig } from '../../../shared/config.ts';
import { keyInRange, parseLogKey, vendedListingPrefixes } from '../../../shared/s3/key-layouts.ts';

const iso = (s: string) => new Date(s);

describe('vended-delivery keys', () => {
  it('parses the hour of …/YYYY/MM/DD/HH/file and of Hive-style year=/month=/day=/hour= folders', () => {
    expect(
      parseLogKey('logs/AWSLogs/111122223333/S3ServerAccessLogs/us-east-1/2026/11/02/17/x.json.gz', 'logs/'),
    ).toEqual({
      layout: 'vended',
      time: iso('2026-11-02T17:00:00Z'),
      wholeDay: false,
      spanMs: 3_600_000,
    });
    expect(parseLogKey('logs/a=1/b=2/year=2026/month=01/day=31/hour=23/part-0.parquet', 'logs/')?.time).toEqual(
      iso('2026-01-31T23:00:00Z'),
    );
    expect(parseLogKey('2026/11/02/05/f.parquet')?.layout).toBe('vended');
  });

  it('refuses impossible dates, missing hour folders and keys outside the prefix; leaves the S3 layouts as they were', () => {
    for (const key of [
      'logs/x/2026/02/30/01/f',
      'logs/x/2026/11/02/24/f',
      'logs/x/2026/11/02/f',
      'logs/x/2026/11/02/05/',
      'other/x/2026/11/02/05/f',
    ]) {
      expect(parseLogKey(key, 'logs/'), key).toBeNull();
    }
    expect(parseLogKey('logs/123456789012/eu-west-1/b/2026/11/02/2026-11-02-04-00-01-0123ABCD', 'logs/')?.layout).toBe(
      'partitioned',
    );
    expect(parseLogKey('logs/2026-11-02-04-00-01-0123ABCD', 'logs/')?.layout).toBe('simple');
  });

  it('an hour folder is in range when its hour overlaps it', () => {
    const k = parseLogKey('v/2026/11/02/17/f')!;
    expect(keyInRange(k, { from: iso('2026-11-02T17:59:59Z'), to: iso('2026-11-03T00:00:00Z') })).toBe(true);
    expect(keyInRange(k, { from: iso('2026-11-02T18:00:00Z'), to: iso('2026-11-03T00:00:00Z') })).toBe(false);
    expect(keyInRange(k, { from: iso('2026-11-02T00:00:00Z'), to: iso('2026-11-02T17:00:00Z') })).toBe(false);
  });

  it("lists day prefixes in the root's own folder style", () => {
    const range = { from: iso('2026-11-30T10:00:00Z'), to: iso('2026-12-01T01:00:00Z') };
    expect(vendedListingPrefixes('r/', false, range)).toEqual(['r/2026/11/30/', 'r/2026/12/01/']);
    expect(vendedListingPrefixes('r/', true, range)).toEqual([
      'r/year=2026/month=11/day=30/',
      'r/year=2026/month=12/day=01/',
    ]);
  });
});

describe('allow-list settings with a vended-delivery prefix', () => {
  it('LOG_PREFIXES takes the vended prefix beside the text one; ingest allows both layouts, backfill replays the first by default', () => {
    const env = {
      LOG_BUCKETS: 'logs-bucket',
      LOG_PREFIXES: 'AWSLogs/,logs/',
      SNOWFLAKE_SECRET_ARN: 'arn:aws:secretsmanager:x',
    };
    const ingest = loadIngestConfig(env);
    expect(
      isAllowedObject(
        ingest,
        'logs-bucket',
        'AWSLogs/111122223333/S3ServerAccessLogs/us-east-1/2026/11/02/17/x.parquet',
      ),
    ).toBe(true);
    expect(isAllowedObject(ingest, 'logs-bucket', 'logs/2026-11-02-17-00-00-0123ABCD')).toBe(true);
    expect(isAllowedObject(ingest, 'logs-bucket', 'other/2026/11/02/17/x.parquet')).toBe(false);
    expect(
      loadBackfillConfig({ ...env, BACKFILL_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q' }).logPrefix,
    ).toBe('AWSLogs/');
  });
});
