/**
 * Test fixtures for the backfill suites: a log bucket holding both key layouts over several days,
 * written fast (tiny bodies, bounded parallel PutObject), and an S3 client wrapper that records
 * every ListObjectsV2 call independently of the code under test.
 */
import http from 'node:http';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BackfillDeps, BackfillSettings, InvocationContext } from '../../../functions/backfill/core.ts';
import type { Ledger } from '../../../functions/backfill/ledger.ts';
import type { BackfillPayload } from '../../../functions/backfill/request.ts';
import { Prng } from '../../../local/sample/prng.ts';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export interface Fixture {
  key: string;
  /** Key time (delivery time; for EventTime partitions the day start). */
  time: number;
  wholeDay: boolean;
  layout: 'simple' | 'partitioned';
}

const pad = (n: number) => String(n).padStart(2, '0');
const stamp = (t: number) => {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
};
const folders = (t: number) => {
  const d = new Date(t);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/`;
};

export const ROOT_A = '123456789012/us-east-1/app-bucket/'; // DeliveryTime partitions
export const ROOT_B = '123456789012/eu-west-1/web-bucket/'; // EventTime partitions (whole days)

/**
 * `count` log keys under `prefix` between `start` and `start + days`: half simple, a third
 * partitioned by delivery time, the rest partitioned by event time. Unique strings are upper-case
 * hex, as S3 writes them.
 */
export function makeFixtures(prefix: string, start: number, days: number, count: number, seed = 7): Fixture[] {
  const seeded = new Prng(seed);
  const rand = () => seeded.next();
  const out: Fixture[] = [];
  for (let i = 0; i < count; i++) {
    const t = start + Math.floor((rand() * days * DAY) / 1000) * 1000;
    const unique = `${Math.floor(rand() * 0xffffffff)
      .toString(16)
      .toUpperCase()
      .padStart(8, '0')}${i.toString(16).toUpperCase().padStart(8, '0')}`;
    const kind = i % 6;
    if (kind < 3) {
      out.push({ key: `${prefix}${stamp(t)}-${unique}`, time: t, wholeDay: false, layout: 'simple' });
    } else if (kind < 5) {
      out.push({
        key: `${prefix}${ROOT_A}${folders(t)}${stamp(t)}-${unique}`,
        time: t,
        wholeDay: false,
        layout: 'partitioned',
      });
    } else {
      const day = Math.floor(t / DAY) * DAY;
      out.push({
        key: `${prefix}${ROOT_B}${folders(day)}${stamp(day)}-${unique}`,
        time: day,
        wholeDay: true,
        layout: 'partitioned',
      });
    }
  }
  return out;
}

/** What the backfill must select for a padded key-time window [from, to). */
export function expectedSelection(fixtures: Fixture[], from: number, to: number): Set<string> {
  return new Set(
    fixtures
      .filter((f) => (f.wholeDay ? f.time < to && f.time + DAY > from : f.time >= from && f.time < to))
      .map((f) => f.key),
  );
}

/**
 * Writes the objects with parallel PutObject requests (bounded concurrency), as plain HTTP PUTs on
 * a keep-alive agent: the SDK's signing and checksum middleware made fixture writes 4-5x slower
 * on this machine, and fauxqs does not check signatures. The code under test uses SDK clients.
 * Bodies are never empty (fauxqs answers an empty raw PUT with a 500): one byte stands in.
 */
export async function putAll(
  aws: { endpoint: string; s3: S3Client },
  bucket: string,
  items: Array<{ key: string; body?: string | Uint8Array }>,
  concurrency = 16,
) {
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: { name?: string }) => {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  });
  const url = new URL(aws.endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const put = (key: string, body: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: `/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
          method: 'PUT',
          agent,
          headers: {
            'content-length': body.byteLength,
            'content-type': 'application/octet-stream',
            // fauxqs reads the region from the credential scope.
            authorization:
              'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: HTTP ${res.statusCode} ${text}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < items.length) {
          const item = items[next++]!;
          const body = typeof item.body === 'string' ? Buffer.from(item.body) : (item.body ?? Buffer.from('\n'));
          await put(item.key, body.byteLength > 0 ? body : Buffer.from('\n'));
        }
      }),
    );
  } finally {
    agent.destroy();
  }
}

/** Records the Prefix of every ListObjectsV2 call the client makes (an SDK middleware, not a mock). */
export function recordListCalls(s3: S3Client): { prefixes: string[] } {
  const record = { prefixes: [] as string[] };
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'ListObjectsV2Command') {
        record.prefixes.push(String((args.input as { Prefix?: string }).Prefix ?? ''));
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordListCalls' },
  );
  return record;
}

/** A Lambda-like context whose time runs out after `checks` calls (then reports 0 ms left). */
export function budgetContext(checks = Infinity, awsRequestId = 'req-1'): InvocationContext & { calls: number } {
  const ctx = {
    calls: 0,
    awsRequestId,
    getRemainingTimeInMillis() {
      ctx.calls++;
      return ctx.calls > checks ? 0 : 900_000;
    },
  };
  return ctx;
}

/** An in-memory ledger for suites that are about listing, not Snowflake. */
export function setLedger(loaded: Set<string>): Ledger {
  return { loadedKeys: async (_bucket, keys) => new Set(keys.filter((k) => loaded.has(k))) };
}

export function settings(overrides: Partial<BackfillSettings> & Pick<BackfillSettings, 'queueUrl'>): BackfillSettings {
  return {
    logBucket: 'log-bucket',
    logPrefix: 'logs/',
    allowedBuckets: [],
    maxRangeDays: 31,
    region: 'us-east-1',
    paddingBeforeMs: HOUR,
    paddingAfterMs: 6 * HOUR,
    safetyMarginMs: 1000,
    ...overrides,
  };
}

export const quietLogger = { info() {}, warn() {} };

/** Deps whose self-invocations are collected instead of sent, so a test can run them one by one. */
export function collectingDeps(
  base: Omit<BackfillDeps, 'continueWith'>,
): BackfillDeps & { continued: BackfillPayload[] } {
  const continued: BackfillPayload[] = [];
  return {
    ...base,
    continued,
    async continueWith(payload) {
      continued.push(JSON.parse(JSON.stringify(payload)) as BackfillPayload);
      return `invocation-${continued.length + 1}`;
    },
  };
}
