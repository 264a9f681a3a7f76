import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config.ts';

describe('Lambda entry', () => {
  it('reads the configuration on first use and fails with one error naming each bad variable', async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env))
      if (/^(LOG_|SNOWFLAKE_|INSERT_|MEMORY_|LOAD_|STAGING_)/.test(k)) delete process.env[k];
    process.env.LOAD_MODE = 'turbo';
    try {
      // Importing must not read the environment outside Lambda (tests import createIngestHandler).
      const { handler } = await import('../../../functions/ingest/handler.ts');
      const err = await handler({ Records: [] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('LOG_BUCKETS is required');
      expect(msg).toContain('SNOWFLAKE_SECRET_ARN is required');
      expect(msg).toContain('LOAD_MODE must be "parsed" or "raw", got "turbo"');
    } finally {
      process.env = saved;
    }
  });
});
