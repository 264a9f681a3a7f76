import { describe, expect, it } from 'vitest';
import { ConfigError, INGEST_DEFAULTS, isAllowedObject, loadIngestConfig } from '../../../shared/config.ts';

const local = {
  LOG_BUCKETS: 'my-logs',
  LOAD_METHOD: 'insert',
  SNOWFLAKE_ACCOUNT: 'local',
  SNOWFLAKE_USERNAME: 'local',
  SNOWFLAKE_PASSWORD: 'sup3r-secret',
  SNOWFLAKE_DATABASE: 'S3_ACCESS_LOGS',
  SNOWFLAKE_SCHEMA: 'PUBLIC',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadIngestConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadIngestConfig', () => {
  it('applies defaults', () => {
    const c = loadIngestConfig(local);
    expect(c).toMatchObject({
      logBuckets: ['my-logs'],
      logPrefixes: [],
      insertChunkRows: 2000,
      memoryBudgetBytes: 32 * 1024 * 1024,
      logLevel: 'INFO',
      loadMode: 'parsed',
      loadMethod: 'insert',
      snowflake: {
        kind: 'env',
        credentials: { account: 'local', username: 'local', database: 'S3_ACCESS_LOGS', schema: 'PUBLIC' },
      },
    });
  });

  it('prefers the secret ARN', () => {
    const c = loadIngestConfig({
      LOAD_METHOD: 'insert',
      LOG_BUCKETS: 'a-b,c.d',
      LOG_PREFIXES: 'logs/, audit/',
      SNOWFLAKE_SECRET_ARN: 'arn:aws:secretsmanager:x',
      LOAD_MODE: 'RAW',
      LOG_LEVEL: 'debug',
      INSERT_CHUNK_ROWS: '500',
      MEMORY_BUDGET_MB: '8',
    });
    expect(c).toMatchObject({
      logBuckets: ['a-b', 'c.d'],
      logPrefixes: ['logs/', 'audit/'],
      snowflake: { kind: 'secret', secretId: 'arn:aws:secretsmanager:x' },
      loadMode: 'raw',
      logLevel: 'DEBUG',
      insertChunkRows: 500,
      memoryBudgetBytes: 8 << 20,
    });
  });

  it('names every bad variable in one error', () => {
    const p = problems({
      LOAD_METHOD: 'Insert',
      LOG_BUCKETS: 'Bad_Bucket',
      INSERT_CHUNK_ROWS: '99999',
      MEMORY_BUDGET_MB: 'lots',
      LOG_LEVEL: 'chatty',
      LOAD_MODE: 'fast',
      SNOWFLAKE_ACCOUNT: 'a',
      SNOWFLAKE_DATABASE: 'db; drop',
      SNOWFLAKE_SCHEMA: 'PUBLIC',
    });
    const text = p.join('\n');
    for (const name of [
      'LOG_BUCKETS',
      'INSERT_CHUNK_ROWS',
      'MEMORY_BUDGET_MB',
      'LOG_LEVEL',
      'LOAD_MODE',
      'SNOWFLAKE_USERNAME',
      'SNOWFLAKE_PRIVATE_KEY or SNOWFLAKE_PASSWORD',
      'SNOWFLAKE_DATABASE',
    ])
      expect(text).toContain(name);
    expect(p).toHaveLength(8);
  });

  it('asks for Snowflake credentials when none are given to insert', () => {
    expect(problems({ LOG_BUCKETS: 'my-logs', LOAD_METHOD: 'insert' }).join()).toContain(
      'SNOWFLAKE_SECRET_ARN is required',
    );
    expect(problems({}).join()).toContain('LOG_BUCKETS is required');
  });

  it('pipe needs a staging bucket and no Snowflake credentials', () => {
    expect(loadIngestConfig({ LOG_BUCKETS: 'my-logs', LOAD_METHOD: 'pipe', STAGING_BUCKET: 'my-staging' })).toEqual({
      logBuckets: ['my-logs'],
      logPrefixes: [],
      loadMethod: 'pipe',
      staging: { bucket: 'my-staging', prefix: 'pipe/' },
      insertChunkRows: INGEST_DEFAULTS.insertChunkRows,
      memoryBudgetBytes: INGEST_DEFAULTS.memoryBudgetMb << 20,
      logLevel: 'INFO',
      loadMode: 'parsed',
    });
    const raw = loadIngestConfig({
      ...local,
      LOAD_METHOD: 'PIPE',
      LOAD_MODE: 'raw',
      STAGING_BUCKET: 'my-staging',
      STAGING_PREFIX: 'snowpipe/access-logs/',
    });
    expect(raw).toMatchObject({
      loadMethod: 'pipe',
      loadMode: 'raw',
      staging: { bucket: 'my-staging', prefix: 'snowpipe/access-logs/' },
      snowflake: { kind: 'env' },
    });
  });

  it('names every bad pipe variable in one error, and checks credentials that are given in pipe', () => {
    const p = problems({
      LOG_BUCKETS: 'my-logs',
      LOAD_METHOD: 'pipe',
      STAGING_PREFIX: 'no-slash',
      SNOWFLAKE_ACCOUNT: 'a',
    });
    expect(p.join('\n')).toContain('STAGING_BUCKET is required with LOAD_METHOD=pipe');
    expect(p.join('\n')).toContain('STAGING_PREFIX must end with "/"');
    expect(p.join('\n')).toContain('SNOWFLAKE_USERNAME is required');
    expect(
      problems({
        LOG_BUCKETS: 'my-logs',
        LOAD_METHOD: 'copy',
        STAGING_BUCKET: 'Bad_Bucket',
        SNOWFLAKE_SECRET_ARN: 'arn:x',
      }),
    ).toEqual([
      'LOAD_METHOD must be "pipe" or "insert", got "copy".',
      'STAGING_BUCKET must be a valid S3 bucket name, got "Bad_Bucket".',
    ]);
  });

  it('reads how long a secret is reused: 300 s unless SNOWFLAKE_SECRET_MAX_AGE_SECONDS says otherwise', () => {
    const secret = { LOG_BUCKETS: 'my-logs', SNOWFLAKE_SECRET_ARN: 'arn:aws:secretsmanager:x' };
    expect(loadIngestConfig(secret).snowflake).toEqual({
      kind: 'secret',
      secretId: 'arn:aws:secretsmanager:x',
      maxAgeSeconds: 300,
    });
    expect(loadIngestConfig({ ...secret, SNOWFLAKE_SECRET_MAX_AGE_SECONDS: '0' }).snowflake).toMatchObject({
      maxAgeSeconds: 0,
    });
    expect(problems({ ...secret, SNOWFLAKE_SECRET_MAX_AGE_SECONDS: '1h', LOAD_MODE: 'fast' })).toEqual([
      'LOAD_MODE must be "parsed" or "raw", got "fast".',
      'SNOWFLAKE_SECRET_MAX_AGE_SECONDS must be a whole number from 0 to 86400, got "1h".',
    ]);
  });

  it('treats blank variables as unset and trims values', () => {
    const c = loadIngestConfig({ ...local, LOG_BUCKETS: ' my-logs , ', LOG_LEVEL: ' warn ', MEMORY_BUDGET_MB: ' ' });
    expect(c).toMatchObject({ logBuckets: ['my-logs'], logLevel: 'WARN', memoryBudgetBytes: 32 << 20 });
  });

  it('never puts a secret value in the message', () => {
    try {
      loadIngestConfig({
        ...local,
        SNOWFLAKE_PRIVATE_KEY: 'not-a-pem-but-secret',
        SNOWFLAKE_PASSWORD: 'pw-secret',
        LOG_BUCKETS: '',
      });
    } catch (err) {
      expect(String((err as Error).message)).not.toMatch(/secret/);
      expect((err as Error).message).toContain('SNOWFLAKE_PRIVATE_KEY must be a PEM');
      return;
    }
    throw new Error('expected a ConfigError');
  });
});

describe('isAllowedObject', () => {
  it('checks bucket and prefix', () => {
    const c = { logBuckets: ['a'], logPrefixes: ['logs/'] };
    expect(isAllowedObject(c, 'a', 'logs/x')).toBe(true);
    expect(isAllowedObject(c, 'a', 'other/x')).toBe(false);
    expect(isAllowedObject(c, 'b', 'logs/x')).toBe(false);
    expect(isAllowedObject({ logBuckets: ['a'], logPrefixes: [] }, 'a', 'anything')).toBe(true);
  });
});
