/**
 * A rotated secret: the cached credentials are refused at login, and the next connection attempt
 * must read the secret again instead of retrying the stale value until the container dies.
 * Real snowflake-sdk logins against snowflake-local with a user list; the real Secrets Manager
 * client (through Powertools' SecretsProvider) against an in-process GetSecretValue stand-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectionProvider } from '../../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../../shared/snowflake/credentials.ts';
import { startSnowflake, type TestSnowflake } from '../../../local/harness/snowflake.ts';
import { startSecretsManager, type TestSecretsManager } from '../../helpers/secrets-manager.ts';

let sf: TestSnowflake;
let secrets: TestSecretsManager;
beforeAll(async () => {
  sf = await startSnowflake({ users: [{ name: 'loader', password: 'after-rotation' }] });
  secrets = await startSecretsManager();
});
afterAll(async () => {
  await sf?.stop();
  await secrets?.stop();
});

/** Sets the secret's value (a rotation). */
function rotate(password: string): void {
  const value = {
    account: 'local',
    username: 'loader',
    password,
    database: 'S3_ACCESS_LOGS',
    schema: 'PUBLIC',
    accessUrl: sf.url,
  };
  secrets.values.set('sf-secret', JSON.stringify(value));
}

describe('credentials after a failed login', () => {
  it('are read again from the secret after a refused login, so a rotated password takes effect without a cold start', async () => {
    rotate('before-rotation');
    // Within the default max age (300 s): only the failed login makes it read the secret again.
    const provider = createConnectionProvider(
      credentialsProvider({ kind: 'secret', secretId: 'sf-secret' }, secrets.client),
    );
    const reads = secrets.reads;
    try {
      await expect(provider.get()).rejects.toThrow(/Incorrect username or password/);
      expect(secrets.reads - reads).toBe(1);
      rotate('after-rotation');
      const conn = await provider.get();
      expect(await conn.isValidAsync()).toBe(true);
      expect(secrets.reads - reads).toBe(2);
      // A working connection is reused: no further secret reads.
      await provider.get();
      expect(secrets.reads - reads).toBe(2);
    } finally {
      await provider.close();
    }
  });
});
