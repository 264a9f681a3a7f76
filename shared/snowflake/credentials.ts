/**
 * Where the Snowflake credentials come from: one Secrets Manager secret in AWS, the environment
 * locally (shared/config.ts decides which). The secret is fetched once per container and cached;
 * rotation takes effect on the next cold start, or when the connection provider asks again after
 * a failed login (`forget`).
 *
 * Nothing here logs or embeds a credential in an error message.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ConfigError,
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

export function credentialsProvider(
  source: SnowflakeSource,
  secrets: () => SecretsManagerClient = () => new SecretsManagerClient({}),
): CredentialsProvider {
  if (source.kind === 'env') return { get: async () => source.credentials, forget() {} };
  let cached: Promise<SnowflakeCredentials> | undefined;
  return {
    get() {
      cached ??= secrets()
        .send(new GetSecretValueCommand({ SecretId: source.secretId }))
        .then((r) => parseSecret(source.secretId, r.SecretString))
        .catch((err: unknown) => {
          cached = undefined;
          throw err;
        });
      return cached;
    },
    forget() {
      cached = undefined;
    },
  };
}
