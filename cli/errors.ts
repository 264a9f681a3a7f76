/**
 * A failure the user can fix: printed as one sentence, no stack trace, with its exit code.
 * 2 = usage error (the usage text follows), 1 = the command ran but could not do its job.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
