import { runningStack, StackError } from '../local/stack-info.ts';
import { CliError } from './errors.ts';

/** The running `npm start` stack for `--local` commands; a missing or dead one is a one-line error. */
export function localStack(dataDir: string): ReturnType<typeof runningStack> {
  try {
    return runningStack(dataDir);
  } catch (err) {
    if (err instanceof StackError) throw new CliError(err.message, 1);
    throw err;
  }
}
