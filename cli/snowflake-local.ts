/**
 * `s3-access-logs snowflake-local [--port 8085] [--db .local/snowflake.duckdb]`: runs the local
 * Snowflake endpoint on 127.0.0.1 until Ctrl-C, printing how to connect to it.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { WAREHOUSE_FILE } from '../local/stack-info.ts';
import { CliError } from './errors.ts';

interface Options {
  port: string;
  db: string;
  memory?: boolean;
}

export function register(program: Command): void {
  program
    .command('snowflake-local')
    .description('Run a local Snowflake endpoint (snowflake-sdk protocol over DuckDB) on 127.0.0.1.')
    .option('--port <port>', 'TCP port on 127.0.0.1 (0 = any free port)', '8085')
    .option(
      '--db <file>',
      'DuckDB file holding the warehouse (the one "npm start" uses); it survives restarts',
      path.join('.local', WAREHOUSE_FILE),
    )
    .option('--memory', 'keep the warehouse in memory instead of --db (lost on exit)')
    .action(async (opts: Options) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new CliError(`--port must be a TCP port number (0-65535), got "${opts.port}".`, 2);
      }
      // Loaded here so that `--help` does not start DuckDB.
      const { PortInUseError, startSnowflakeLocal } = await import('snowflake-local');
      let server;
      try {
        // The login printed below is the only one accepted.
        server = await startSnowflakeLocal({
          port,
          users: [{ name: 'local', password: 'local' }],
          ...(opts.memory ? {} : { dbPath: opts.db }),
        });
      } catch (err) {
        if (err instanceof PortInUseError) {
          throw new CliError(
            `port ${port} on 127.0.0.1 is already in use; stop the other process or pass --port <free port> (0 picks one).`,
            1,
          );
        }
        const msg = err instanceof Error ? err.message : String(err);
        if (/lock|Conflicting lock|Could not set lock/i.test(msg)) {
          throw new CliError(
            `the warehouse file ${opts.db} is in use by another process; stop it or pass --db <other file>.`,
            1,
          );
        }
        throw err;
      }
      process.stdout.write(
        [
          `snowflake-local listening on ${server.url} (${opts.memory ? 'in memory' : `data in ${opts.db}`})`,
          'Connect with snowflake-sdk:',
          `  snowflake.createConnection({ accessUrl: '${server.url}', account: 'local', username: 'local',`,
          `    password: 'local', database: 'S3_ACCESS_LOGS', schema: 'PUBLIC' })`,
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stdout.write('stopping snowflake-local...\n');
          void server.stop().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
