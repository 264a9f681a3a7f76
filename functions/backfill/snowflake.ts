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

/** A query runner plus `close()` for callers that end (the CLI); a Lambda keeps it for the container's life. */
export function snowflakeExecutor(source: SnowflakeSource): Execute & { close(): Promise<void> } {
  const connections = createConnectionProvider(credentialsProvider(source));
  return Object.assign(executeWith(connections), { close: () => connections.close() });
}
