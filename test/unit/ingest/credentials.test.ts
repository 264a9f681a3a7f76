import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config.ts';
import { connectionOptions } from '../../../shared/snowflake/connection.ts';
import { parseSecret } from '../../../shared/snowflake/credentials.ts';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

describe('parseSecret', () => {
  it('reads a key-pair secret and turns it into JWT connection options', () => {
    const c = parseSecret(
      'arn:s',
      JSON.stringify({
        account: 'xy12345.eu-west-1',
        username: 'S3_LOGS_LOADER',
        privateKey: PEM,
        role: 'LOADER',
        warehouse: 'WH_XS',
        database: 'LOGS',
        schema: 'PUBLIC',
      }),
    );
    expect(c).toMatchObject({
      account: 'xy12345.eu-west-1',
      username: 'S3_LOGS_LOADER',
      role: 'LOADER',
      warehouse: 'WH_XS',
      database: 'LOGS',
      schema: 'PUBLIC',
    });
    const o = connectionOptions(c) as unknown as Record<string, unknown>;
    expect(o).toMatchObject({ authenticator: 'SNOWFLAKE_JWT', privateKey: PEM, role: 'LOADER', warehouse: 'WH_XS' });
    expect(o.password).toBeUndefined();
  });

  it('reads a password secret', () => {
    const c = parseSecret(
      'arn:s',
      JSON.stringify({ account: 'a', username: 'u', password: 'pw', database: 'D', schema: 'S' }),
    );
    expect(connectionOptions(c)).toMatchObject({ password: 'pw' });
  });

  it('names every missing or bad field without echoing secret values', () => {
    let err: unknown;
    try {
      parseSecret(
        'arn:aws:secretsmanager:us-east-1:1:secret:sf',
        JSON.stringify({ account: 'a', privateKey: 'hunter2-not-a-pem', database: 'bad name', schema: 'S' }),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('secret field "username" is required');
    expect(msg).toContain('secret field "privateKey" must be a PEM private key');
    expect(msg).toContain('secret field "database" must be a plain Snowflake identifier');
    expect(msg).not.toContain('hunter2');
  });

  it('rejects a secret that is not JSON', () => {
    expect(() => parseSecret('arn:s', 'account=a')).toThrow(/is not JSON/);
  });
});
