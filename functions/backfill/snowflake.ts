/**
 * A bound-values query runner for the ledger lookup, over one lazily opened Snowflake connection.
 */
import snowflake from 'snowflake-sdk';
import type { SnowflakeSource } from '../../shared/config.ts';
import type { Execute } from './ledger.ts';

export function executeOn(connection: snowflake.Connection): Execute {
  return (sqlText, binds) =>
    new Promise((resolve, reject) => {
      connection.execute({
        sqlText,
        binds,
        complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as Array<Record<string, unknown>>)),
      });
    });
}

export function snowflakeExecutor(source: SnowflakeSource): Execute {
  let ready: Promise<Execute> | undefined;
  return async (sqlText, binds) => {
    ready ??= (async () => {
      if (source.kind !== 'env') throw new Error('Snowflake credentials from Secrets Manager are not wired into backfill yet');
      const c = source.credentials;
      const options: snowflake.ConnectionOptions = {
        account: c.account,
        username: c.username,
        database: c.database,
        schema: c.schema,
      };
      if (c.password) options.password = c.password;
      if (c.role) options.role = c.role;
      if (c.warehouse) options.warehouse = c.warehouse;
      if (c.accessUrl) options.accessUrl = c.accessUrl;
      const connection = snowflake.createConnection(options);
      await connection.connectAsync(() => undefined);
      return executeOn(connection);
    })().catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return (await ready)(sqlText, binds);
  };
}
