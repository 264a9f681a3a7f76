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
      if (/unexpected end of file/i.test(e?.message ?? '')) return `${name} is a truncated gzip file (it ends before its compressed data does); fetch it again or leave it out.`;
      return `${name} could not be read: ${e?.message ?? String(err)}.`;
  }
}
