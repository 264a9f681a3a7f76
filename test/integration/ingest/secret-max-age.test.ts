/**
 * The Snowflake secret's cache: reused for new logins while younger than its max age, read again
 * once older, shared by concurrent logins, bypassed after `forget`. A real SecretsManagerClient
 * (through Powertools' SecretsProvider) against the in-process GetSecretValue stand-in; the clock
 * is moved with vitest's fake Date, never waited for.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../shared/config.ts';
import { credentialsProvider } from '../../../shared/snowflake/credentials.ts';
import { startSecretsManager, type TestSecretsManager } from '../../helpers/secrets-manager.ts';

let secrets: TestSecretsManager;
beforeAll(async () => {
  secrets = await startSecretsManager();
});
afterAll(async () => {
  await secrets?.stop();
});
afterEach(() => {
  vi.useRealTimers();
});

const secret = (password: string) =>
  JSON.stringify({ account: 'a', username: 'u', password, database: 'D', schema: 'S' });

/** A provider for a fresh secret id, and a function counting that provider's reads. */
function provider(value: string, maxAgeSeconds?: number) {
  const secretId = `sf-${Math.random().toString(36).slice(2)}`;
  secrets.values.set(secretId, value);
  const start = secrets.reads;
  const source = { kind: 'secret' as const, secretId, ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }) };
  return { secretId, credentials: credentialsProvider(source, secrets.client), reads: () => secrets.reads - start };
}

describe('the Snowflake secret', () => {
  it('is reused within its max age and read again after it, so a rotation takes effect without a failed login', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const p = provider(secret('one'), 60);
    expect((await p.credentials.get()).password).toBe('one');
    secrets.values.set(p.secretId, secret('two'));
    vi.setSystemTime(Date.now() + 59_000);
    expect((await p.credentials.get()).password).toBe('one');
    expect(p.reads()).toBe(1);
    vi.setSystemTime(Date.now() + 2_000);
    expect((await p.credentials.get()).password).toBe('two');
    expect(p.reads()).toBe(2);
  });

  it('is kept 300 s by default', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const p = provider(secret('one'));
    await p.credentials.get();
    vi.setSystemTime(Date.now() + 299_000);
    await p.credentials.get();
    expect(p.reads()).toBe(1);
    vi.setSystemTime(Date.now() + 2_000);
    await p.credentials.get();
    expect(p.reads()).toBe(2);
  });

  it('is read for every login with max age 0', async () => {
    const p = provider(secret('one'), 0);
    await p.credentials.get();
    await p.credentials.get();
    expect(p.reads()).toBe(2);
  });

  it('is read once for concurrent logins, and again at once after forget()', async () => {
    const p = provider(secret('one'));
    const all = await Promise.all([p.credentials.get(), p.credentials.get(), p.credentials.get()]);
    expect(all.map((c) => c.password)).toEqual(['one', 'one', 'one']);
    expect(p.reads()).toBe(1);
    secrets.values.set(p.secretId, secret('two'));
    p.credentials.forget();
    expect((await p.credentials.get()).password).toBe('two');
    expect(p.reads()).toBe(2);
  });

  it('that is missing or not JSON fails with a message naming the secret, never its value', async () => {
    const missing = credentialsProvider({ kind: 'secret', secretId: 'no-such-secret' }, secrets.client);
    await expect(missing.get()).rejects.toThrow(/can't find the specified secret/);
    const p = provider('account=a password=hunter2');
    const err = await p.credentials.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`Secret ${p.secretId} is not JSON`);
    expect((err as Error).message).not.toContain('hunter2');
    // A failed read is not cached: the next login reads again.
    secrets.values.set(p.secretId, secret('fixed'));
    expect((await p.credentials.get()).password).toBe('fixed');
  });
});
