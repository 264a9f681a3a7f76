import { Command, CommanderError } from 'commander';
import { CliError } from './errors.ts';

// The AWS SDK warns on Node 20 that its releases after January 2027 will need Node 22 (snowflake-sdk
// builds an STS client at import, so every command printed it). The project supports Node 20 on
// purpose (fauxqs 1.9.2); set the variable to "false" to see the notice again.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Each subcommand lives in its own module and registers itself on the program. Only the module of
 * the command being run is loaded: the others pull in SDKs and DuckDB (~100 MB, seconds of start-up),
 * and `parse` streams gigabytes under a 200 MB memory budget. `--help` or an unknown name loads all.
 */
const commands: Record<string, () => Promise<{ register(program: Command): void }>> = {
  parse: () => import('./parse.ts'),
  start: () => import('./start.ts'),
  backfill: () => import('./backfill.ts'),
  parity: () => import('./parity.ts'),
  'setup-snowflake': () => import('./setup-snowflake.ts'),
  'snowflake-local': () => import('./snowflake-local.ts'),
  cost: () => import('./cost.ts'),
  detect: () => import('./detect.ts'),
  sample: () => import('./sample.ts'),
};

export async function main(argv: string[]): Promise<number> {
  const program = new Command('s3-access-logs')
    .description('Load Amazon S3 server access logs into Snowflake as typed rows.')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const only = argv[0] !== undefined ? commands[argv[0]] : undefined;
  for (const load of only ? [only] : Object.values(commands)) (await load()).register(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`s3-access-logs: ${err.message}\n`);
      if (err.exitCode === 2) process.stderr.write(`Run "s3-access-logs --help" for usage.\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`s3-access-logs: ${message}\n`);
    if (process.env.DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return 1;
  }
}
