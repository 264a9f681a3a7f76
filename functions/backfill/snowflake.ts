/**
 * The ledger lookup's query runner, over the shared Snowflake connection provider (one cached,
 * validated connection per warm container; credentials from the secret or the environment).
 */
import type { SnowflakeSource } from '../../shared/config.ts';
import { createConnectionProvider, execute, type ConnectionProvider } from '../../shared/snowflake/connection.ts';
import { credentialsProvider } from '../../shared/snowflake/credentials.ts';
import type { Execute } from './ledger.ts';

export function executeWith(connections: ConnectionProvider): Execute {
  return async (sqlText, binds) => execute(await connections.get(), sqlText, binds);
}

export function snowflakeExecutor(source: SnowflakeSource): Execute {
  return executeWith(createConnectionProvider(credentialsProvider(source)));
}
