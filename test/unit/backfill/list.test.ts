import { describe, expect, it } from 'vitest';
import { isRefusedToken, pageAt } from '../../../functions/backfill/list.ts';
import type { ListPage } from '../../../shared/s3/listing.ts';

type PageRequest = { prefix: string; continuationToken?: string; startAfter?: string; maxKeys?: number };

/** A lister that refuses the token 'stale' the way S3 does, and records what it was asked. */
function fakeLister(page: ListPage) {
  const asked: PageRequest[] = [];
  return {
    asked,
    async page(opts: PageRequest): Promise<ListPage> {
      asked.push(opts);
      if (opts.continuationToken === 'stale') {
        throw Object.assign(new Error('The continuation token provided is incorrect'), { name: 'InvalidArgument' });
      }
      if (opts.continuationToken === 'broken')
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      return page;
    },
  };
}

const page: ListPage = { objects: [], commonPrefixes: [], nextToken: 'next' };

describe('list stage', () => {
  it('fetches the page the cursor points into; the objects before its position are handled', async () => {
    const lister = fakeLister(page);
    let warned = 0;
    const got = await pageAt(lister, { prefix: 'p/', s3Token: 't1', position: 40, lastKey: 'p/k39' }, 100, () => {
      warned++;
    });
    expect(got).toEqual({ page, handled: 40 });
    expect(lister.asked).toEqual([{ prefix: 'p/', continuationToken: 't1', maxKeys: 100 }]);
    expect(warned).toBe(0);
  });

  it('resumes after the last handled key when S3 refuses a stale token, with nothing of that page handled', async () => {
    const lister = fakeLister(page);
    let warned = 0;
    const got = await pageAt(lister, { prefix: 'p/', s3Token: 'stale', position: 40, lastKey: 'p/k39' }, 100, () => {
      warned++;
    });
    expect(got).toEqual({ page, handled: 0 });
    expect(lister.asked[1]).toEqual({ prefix: 'p/', startAfter: 'p/k39', maxKeys: 100 });
    expect(warned).toBe(1);
  });

  it('passes on other failures, and a refused token it has no last key for', async () => {
    const broken = { prefix: 'p/', s3Token: 'broken', position: 1, lastKey: 'p/k0' };
    await expect(pageAt(fakeLister(page), broken, undefined, () => {})).rejects.toThrow(/Access Denied/);
    const noKey = { prefix: 'p/', s3Token: 'stale', position: 0 };
    await expect(pageAt(fakeLister(page), noKey, undefined, () => {})).rejects.toThrow(/continuation token/);
  });

  it('recognizes a refused token by name, code or message', () => {
    expect(isRefusedToken({ name: 'InvalidArgument' })).toBe(true);
    expect(isRefusedToken({ Code: 'InvalidArgument' })).toBe(true);
    expect(isRefusedToken(new Error('The continuation token provided is incorrect'))).toBe(true);
    expect(isRefusedToken(new Error('Access Denied'))).toBe(false);
    expect(isRefusedToken(undefined)).toBe(false);
  });
});
