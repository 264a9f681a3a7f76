/**
 * Listing log objects with ListObjectsV2, counting every LIST call (each one is billed and takes a
 * round trip, so the backfill reports how many it made).
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ACCOUNT_FOLDER, SIMPLE_YEAR, VENDED_YEAR_FOLDER } from './key-layouts.ts';

export interface ListedObject {
  key: string;
  size: number;
  /** Without the surrounding quotes S3 puts in listings, as event notifications carry it. */
  etag: string;
  lastModified: Date;
}

export interface ListPage {
  objects: ListedObject[];
  commonPrefixes: string[];
  /** Token for the next page; undefined on the last page. */
  nextToken?: string;
}

export class Lister {
  /** ListObjectsV2 calls made so far. */
  calls = 0;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async page(opts: {
    prefix: string;
    continuationToken?: string;
    startAfter?: string;
    delimiter?: string;
    maxKeys?: number;
  }): Promise<ListPage> {
    this.calls++;
    const out = await this.s3.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: opts.prefix,
        ContinuationToken: opts.continuationToken,
        // S3 ignores StartAfter when a continuation token is given; don't send both.
        StartAfter: opts.continuationToken ? undefined : opts.startAfter,
        Delimiter: opts.delimiter,
        MaxKeys: opts.maxKeys,
      }),
    );
    return {
      objects: (out.Contents ?? []).flatMap((o) =>
        o.Key === undefined
          ? []
          : [
              {
                key: o.Key,
                size: o.Size ?? 0,
                etag: (o.ETag ?? '').replace(/^"|"$/g, ''),
                lastModified: o.LastModified ?? new Date(0),
              },
            ],
      ),
      commonPrefixes: (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix ? [p.Prefix] : [])),
      nextToken: out.IsTruncated ? out.NextContinuationToken : undefined,
    };
  }

  /** Every common prefix one level below `prefix` (Delimiter '/'). */
  async folders(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.page({ prefix, delimiter: '/', continuationToken: token });
      found.push(...page.commonPrefixes);
      token = page.nextToken;
    } while (token);
    return found;
  }

  /**
   * The partitioned-layout source roots (`prefix` + `account/region/bucket/`) under `prefix`;
   * `top` is topFolders(prefix) when the caller has it already.
   */
  async partitionRoots(prefix: string, top?: string[]): Promise<string[]> {
    const accounts = (top ?? (await this.topFolders(prefix))).filter((p) =>
      ACCOUNT_FOLDER.test(p.slice(prefix.length)),
    );
    const roots: string[] = [];
    for (const account of accounts.sort()) {
      for (const region of (await this.folders(account)).sort()) {
        roots.push(...(await this.folders(region)).sort());
      }
    }
    return roots;
  }

  /**
   * The vended-delivery roots under `prefix`: folders that hold year folders (`YYYY/` or
   * `year=YYYY/`), found by walking down from the top folders that are not partitioned-layout
   * accounts, at most `maxDepth` levels (the delivery's suffix path is a few folders deep).
   */
  async vendedRoots(prefix: string, top: string[], maxDepth = 8): Promise<Array<{ root: string; hive: boolean }>> {
    const found = new Map<string, boolean>();
    let level = top.filter((p) => !ACCOUNT_FOLDER.test(p.slice(prefix.length)));
    for (let depth = 1; depth <= maxDepth && level.length > 0; depth++) {
      const next: string[] = [];
      for (const folder of level.sort()) {
        const children = await this.folders(folder);
        const years = children.filter((c) => VENDED_YEAR_FOLDER.test(c.slice(folder.length)));
        if (years.length > 0)
          found.set(
            folder,
            years.some((c) => c.slice(folder.length).startsWith('year=')),
          );
        next.push(...children.filter((c) => !VENDED_YEAR_FOLDER.test(c.slice(folder.length))));
      }
      level = next;
    }
    return [...found].map(([root, hive]) => ({ root, hive }));
  }

  /**
   * Every folder one level below `prefix`.
   *
   * Simple-layout keys can share the prefix and would come back as thousands of plain entries in a
   * delimited listing. They all start `prefixYYYY-`, so when one shows up the listing restarts just
   * after that year's block (StartAfter `prefixYYYY.`: '.' sorts right after '-'), which costs one
   * call per year of simple keys instead of one per 1,000 keys.
   */
  async topFolders(prefix: string): Promise<string[]> {
    const folders: string[] = [];
    let token: string | undefined;
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.page({ prefix, delimiter: '/', continuationToken: token, startAfter });
      for (const p of page.commonPrefixes) if (!folders.includes(p)) folders.push(p);
      if (!page.nextToken) break;
      const lastSimple = [...page.objects].reverse().find((o) => SIMPLE_YEAR.test(o.key.slice(prefix.length)));
      if (lastSimple) {
        const year = SIMPLE_YEAR.exec(lastSimple.key.slice(prefix.length))![1];
        const skipTo = `${prefix}${year}.`;
        // Only jump forward; otherwise page on normally.
        if (!startAfter || skipTo > startAfter) {
          startAfter = skipTo;
          token = undefined;
          continue;
        }
      }
      token = page.nextToken;
      startAfter = undefined;
    }
    return folders;
  }
}
