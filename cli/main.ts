import { Command, CommanderError } from 'commander';
import { CliError } from './errors.ts';

/** Each subcommand lives in its own module and registers itself on the program. */
const commands: Array<() => Promise<{ register(program: Command): void }>> = [
  () => import('./setup-snowflake.ts'),
  () => import('./parse.ts'),
  () => import('./backfill.ts'),
  () => import('./parity.ts'),
  () => import('./snowflake-local.ts'),
];

export async function main(argv: string[]): Promise<number> {
  const program = new Command('s3-access-logs')
    .description('Load Amazon S3 server access logs into Snowflake as typed rows.')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const load of commands) (await load()).register(program);

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
