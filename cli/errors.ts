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

/**
 * What went wrong reading or writing `file`, in words, from a Node or zlib error: the input and the
 * problem, never a bare `ENOENT` or `Z_DATA_ERROR`.
 */
export function describeFileError(file: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const name = file === '-' ? 'standard input' : file;
  switch (e?.code) {
    case 'ENOENT':
      return `${name} does not exist; check the path.`;
    case 'EACCES':
    case 'EPERM':
      return `${name} cannot be opened: permission denied.`;
    case 'EISDIR':
      return `${name} is a directory, not a file.`;
    case 'ENOTDIR':
      return `${name} is not a directory.`;
    case 'Z_DATA_ERROR':
    case 'Z_NEED_DICT':
      return `${name} starts like a gzip file but its compressed data is corrupt; fetch it again or leave it out.`;
    case 'Z_BUF_ERROR':
      return `${name} is a truncated gzip file (it ends before its compressed data does); fetch it again or leave it out.`;
    default:
      if (/unexpected end of file/i.test(e?.message ?? ''))
        return `${name} is a truncated gzip file (it ends before its compressed data does); fetch it again or leave it out.`;
      return `${name} could not be read: ${e?.message ?? String(err)}.`;
  }
}

/**
 * The AWS SDK's own words for a missing region or missing credentials (reading a Secrets Manager
 * secret by name, or invoking a function) replaced by what to do; other messages pass through.
 */
export function awsSetupHint(err: unknown): string | undefined {
  const e = err as { name?: string; message?: string };
  if (/Region is missing/i.test(e?.message ?? '')) {
    return 'no AWS region: pass the secret\'s full ARN (it names the region) or set AWS_REGION, or use --local for the stack "npm start" runs.';
  }
  if (e?.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e?.message ?? '')) {
    return 'no AWS credentials to read the secret: configure them (AWS_PROFILE, aws configure or aws sso login), or use --local for the stack "npm start" runs.';
  }
  return undefined;
}
