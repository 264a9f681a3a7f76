/**
 * Stage 2, list: the page of listing at the cursor. The cursor holds the S3 ContinuationToken that
 * fetched the current page, so a continued or retried invocation gets the same page again and
 * skips the objects it handled already.
 */
import type { ListPage, Lister } from '../../shared/s3/listing.ts';

export interface Cursor {
  /** The prefix being listed. */
  prefix: string;
  s3Token?: string;
  /** Objects of the page handled already. */
  position: number;
  /** The last key handled in this prefix. */
  lastKey?: string;
}

/** S3's answer to an expired or foreign ContinuationToken. */
export function isRefusedToken(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; message?: string };
  return e?.name === 'InvalidArgument' || e?.Code === 'InvalidArgument' || /continuation token/i.test(e?.message ?? '');
}

/**
 * The page at the cursor and how many of its objects were handled already. A token from an earlier
 * invocation may have gone stale; then the listing resumes after the last handled key, which marks
 * the same place, and nothing of the new page was handled yet.
 */
export async function pageAt(
  lister: Pick<Lister, 'page'>,
  cursor: Cursor,
  pageSize: number | undefined,
  onStaleToken: () => void,
): Promise<{ page: ListPage; handled: number }> {
  const { prefix, s3Token, lastKey } = cursor;
  try {
    const page = await lister.page({ prefix, continuationToken: s3Token, maxKeys: pageSize });
    return { page, handled: cursor.position };
  } catch (err) {
    if (!s3Token || lastKey === undefined || !isRefusedToken(err)) throw err;
    onStaleToken();
    return { page: await lister.page({ prefix, startAfter: lastKey, maxKeys: pageSize }), handled: 0 };
  }
}
