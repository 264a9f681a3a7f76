/**
 * Where the Snowflake credentials come from: one Secrets Manager secret in AWS, the environment
 * locally (shared/config.ts decides which). The secret is read through Powertools Parameters'
 * SecretsProvider and reused for new logins for `maxAgeSeconds` (SNOWFLAKE_SECRET_MAX_AGE_SECONDS,
 * default 300 s), so a rotation takes effect within that time without a cold start; after a failed
 * login the connection provider calls `forget`, and the next login reads the secret again at once.
 *
 * The secret's JSON is parsed here, not with Powertools' `transform: 'json'`: a JSON.parse error
 * message quotes the text it failed on, which would put a credential into an error. Nothing here
 * logs or embeds a credential in an error message.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ConfigError,
  SECRET_DEFAULTS,
  type SnowflakeCredentials,
  type SnowflakeSource,
  validateSnowflakeCredentials,
} from '../config.ts';

export type CredentialsProvider = {
  get(): Promise<SnowflakeCredentials>;
  /** Drops the cached value (e.g. after an authentication failure), so the next get() re-reads it. */
  forget(): void;
};

export function parseSecret(secretId: string, secretString: string | undefined): SnowflakeCredentials {
  let value: unknown;
  try {
    value = JSON.parse(secretString ?? '');
  } catch {
    throw new ConfigError([
      `Secret ${secretId} is not JSON; it must hold {account, username, privateKey or password, role, warehouse, database, schema}.`,
    ]);
  }
  if (typeof value !== 'object' || value === null)
    throw new ConfigError([`Secret ${secretId} must hold a JSON object.`]);
  const { credentials, problems } = validateSnowflakeCredentials(
    value as Record<string, unknown>,
    (f) => `secret field "${f}"`,
  );
  if (!credentials) throw new ConfigError(problems.map((p) => `${p} (secret ${secretId})`));
  return credentials;
}

/**
 * `secrets` makes the Secrets Manager client on first use; whatever it configures (region,
 * endpoint, credentials) is the client the SecretsProvider sends GetSecretValue with. It must be a
 * real AWS SDK v3 client: Powertools replaces anything else with a default client.
 */
export function credentialsProvider(
  source: SnowflakeSource,
  secrets: () => SecretsManagerClient = () => new SecretsManagerClient({}),
): CredentialsProvider {
  if (source.kind === 'env') return { get: async () => source.credentials, forget() {} };
  const maxAge = source.maxAgeSeconds ?? SECRET_DEFAULTS.maxAgeSeconds;
  let provider: SecretsProvider | undefined;
  // Concurrent logins of a cold container share one read; after `forget`, the next read bypasses
  // the cache even if a read started before the failed login has filled it since.
  let reading: Promise<SnowflakeCredentials> | undefined;
  let forgotten = false;
  return {
    get() {
      if (reading) return reading;
      provider ??= new SecretsProvider({ awsSdkV3Client: secrets() });
      const forceFetch = forgotten;
      forgotten = false;
      const current = provider
        .get(source.secretId, { maxAge, forceFetch })
        .then((value) => parseSecret(source.secretId, typeof value === 'string' ? value : undefined));
      reading = current;
      const done = () => {
        if (reading === current) reading = undefined;
      };
      // A secret that did not parse is read again next time, not served from the cache until it expires.
      current.then(done, () => {
        done();
        forgotten = true;
      });
      return current;
    },
    forget() {
      provider?.clearCache();
      forgotten = true;
      reading = undefined;
    },
  };
}
