/**
 * A rotated secret: the cached credentials are refused at login, and the next connection attempt
 * must read the secret again instead of retrying the stale value until the container dies.
 * Real snowflake-sdk logins against snowflake-local with a user list; the Secrets Manager client
 * is a stand-in that answers GetSecretValue with the secret's current value (what this isolates).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectionProvider } from '../../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../../shared/snowflake/credentials.ts';
import { startSnowflake, type TestSnowflake } from '../../../local/harness/snowflake.ts';

let sf: TestSnowflake;
beforeAll(async () => {
  sf = await startSnowflake({ users: [{ name: 'loader', password: 'after-rotation' }] });
});
afterAll(async () => {
  await sf?.stop();
});

/** A secret whose value can change (rotation); counts the reads. */
function rotatingSecret(password: string) {
  const secret = {
    password,
    reads: 0,
    client: {
      async send() {
        secret.reads++;
        const value = {
          account: 'local',
          username: 'loader',
          password: secret.password,
          database: 'S3_ACCESS_LOGS',
          schema: 'PUBLIC',
          accessUrl: sf.url,
        };
        return { SecretString: JSON.stringify(value) };
      },
    } as unknown as SecretsManagerClient,
  };
  return secret;
}

describe('credentials after a failed login', () => {
  it('are read again from the secret after a refused login, so a rotated password takes effect without a cold start', async () => {
    const secret = rotatingSecret('before-rotation');
    const provider = createConnectionProvider(
      credentialsProvider({ kind: 'secret', secretId: 'sf-secret' }, () => secret.client),
    );
    try {
      await expect(provider.get()).rejects.toThrow(/Incorrect username or password/);
      expect(secret.reads).toBe(1);
      secret.password = 'after-rotation';
      const conn = await provider.get();
      expect(await conn.isValidAsync()).toBe(true);
      expect(secret.reads).toBe(2);
      // A working connection is reused: no further secret reads.
      await provider.get();
      expect(secret.reads).toBe(2);
    } finally {
      await provider.close();
    }
  });
});
