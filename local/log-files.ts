/** The user's `--logs` directory, read before anything starts, and the one-line reasons of file errors. */
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { StackError } from './stack-info.ts';

/** Fails early, before anything starts, if `--logs` cannot be read. Returns the files found. */
export function listLogFiles(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new StackError(`cannot read --logs ${dir}: ${reason(err)}. Pass a directory of S3 access log files.`);
  }
  if (!st.isDirectory())
    throw new StackError(`--logs ${dir} is not a directory. Pass a directory of S3 access log files.`);
  const files: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      throw new StackError(`cannot read --logs directory ${d}: ${reason(err)}.`);
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !e.name.startsWith('.')) {
        try {
          accessSync(p, constants.R_OK);
        } catch (err) {
          throw new StackError(`cannot read ${p} in --logs: ${reason(err)}.`);
        }
        files.push(p);
      }
    }
  };
  walk(dir);
  if (files.length === 0) throw new StackError(`--logs ${dir} holds no files. Put S3 access log objects in it.`);
  return files;
}

/** A file-system error as the end of a one-sentence message. */
export function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'no such file or directory';
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied';
  if (e?.code === 'ENOTDIR') return 'not a directory';
  return (e?.message ?? String(err)).split('\n')[0]!;
}
