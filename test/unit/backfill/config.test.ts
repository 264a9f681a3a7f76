import { describe, expect, it } from 'vitest';
import { ConfigError, loadBackfillConfig } from '../../../shared/config.ts';

const base = {
  LOG_BUCKETS: 'log-bucket, other-logs',
  LOG_PREFIXES: 'logs/',
  BACKFILL_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest',
  SNOWFLAKE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sf',
};

describe('loadBackfillConfig', () => {
  it('reads defaults: first bucket and prefix, 1 h before / 6 h after padding, 31 days', () => {
    const c = loadBackfillConfig({ ...base, AWS_REGION: 'eu-west-1' });
    expect(c).toMatchObject({
      logBucket: 'log-bucket',
      logPrefix: 'logs/',
      allowedBuckets: ['other-logs'],
      queueUrl: base.BACKFILL_QUEUE_URL,
      region: 'eu-west-1',
      maxRangeDays: 31,
      paddingBeforeMs: 3_600_000,
      paddingAfterMs: 6 * 3_600_000,
      safetyMarginMs: 60_000,
      snowflake: { kind: 'secret', secretId: base.SNOWFLAKE_SECRET_ARN },
    });
    expect(c.dlqUrl).toBeUndefined();
  });

  it('reads overrides', () => {
    const c = loadBackfillConfig({
      ...base,
      BACKFILL_DLQ_URL: 'http://127.0.0.1:4566/000000000000/dlq',
      BACKFILL_MAX_RANGE_DAYS: '7',
      BACKFILL_PADDING_BEFORE_MINUTES: '0',
      BACKFILL_PADDING_AFTER_MINUTES: '120',
      BACKFILL_SAFETY_MARGIN_SECONDS: '30',
    });
    expect(c).toMatchObject({ maxRangeDays: 7, paddingBeforeMs: 0, paddingAfterMs: 7_200_000, safetyMarginMs: 30_000 });
    expect(c.dlqUrl).toBe('http://127.0.0.1:4566/000000000000/dlq');
  });

  it('names every bad variable at once', () => {
    try {
      loadBackfillConfig({
        LOG_BUCKETS: 'Bad_Bucket',
        BACKFILL_MAX_RANGE_DAYS: '0',
        BACKFILL_PADDING_AFTER_MINUTES: 'x',
        SNOWFLAKE_SECRET_ARN: 's',
      });
      throw new Error('expected ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      for (const name of [
        'LOG_BUCKETS',
        'BACKFILL_QUEUE_URL',
        'BACKFILL_MAX_RANGE_DAYS',
        'BACKFILL_PADDING_AFTER_MINUTES',
      ]) {
        expect(msg).toContain(name);
      }
    }
  });
});
