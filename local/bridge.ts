import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { objectCreatedNotification } from '../shared/s3/events.ts';

/**
 * The notification bridge: fauxqs stores objects but does not deliver bucket notifications, so
 * this does what S3 does for a bucket configured with `s3:ObjectCreated:*` → SQS on a prefix: for
 * each object created (or overwritten) under the prefix it sends one standard S3 event message.
 *
 * It finds new objects by listing the prefix (ListObjectsV2), which works against any S3
 * endpoint. `kick()` makes it look right away; the stack calls it after its own uploads and
 * whenever fauxqs reports an upload, so delivery is prompt without a busy poll.
 */

export interface BridgeOptions {
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  /** Only keys starting with this get a notification (S3's prefix filter). */
  prefix: string;
  queueUrl: string;
  region: string;
  /** Background listing interval, ms. */
  intervalMs?: number;
  /** Called after each notification is sent. */
  onSent?: (key: string) => void;
  onError?: (error: unknown) => void;
}

export interface Bridge {
  /** Look for new objects now; resolves with how many notifications this scan sent. */
  kick(): Promise<number>;
  readonly sent: number;
  stop(): Promise<void>;
}

export function startBridge(options: BridgeOptions): Bridge {
  const intervalMs = options.intervalMs ?? 500;
  /** key → version last notified; an overwrite is a new ObjectCreated event, as in S3. */
  const seen = new Map<string, string>();
  let sent = 0;
  let stopped = false;
  let running: Promise<number> | null = null;
  let again = false;
  let sequence = 0n;

  async function scan(): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const page = await options.s3.send(
        new ListObjectsV2Command({ Bucket: options.bucket, Prefix: options.prefix, ContinuationToken: token }),
      );
      for (const obj of page.Contents ?? []) {
        if (!obj.Key || stopped) continue;
        // S3 notifies every PUT, even of identical bytes: ETag plus modification time tells them apart.
        const version = `${obj.ETag ?? ''}|${obj.LastModified?.getTime() ?? ''}`;
        if (seen.get(obj.Key) === version) continue;
        sequence++;
        const body = notificationFor(options, { ...obj, Key: obj.Key }, sequence);
        await options.sqs.send(
          new SendMessageCommand({ QueueUrl: options.queueUrl, MessageBody: JSON.stringify(body) }),
        );
        seen.set(obj.Key, version);
        sent++;
        count++;
        options.onSent?.(obj.Key);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && !stopped);
    return count;
  }

  /** Scans never overlap; a kick during a scan schedules exactly one more. */
  function kick(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await scan();
        } while (again && !stopped);
      } finally {
        running = null;
      }
      return total;
    })();
    return running;
  }

  const timer = setInterval(() => {
    if (!running) kick().catch((err) => options.onError?.(err));
  }, intervalMs);

  return {
    kick,
    get sent() {
      return sent;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

type ListedObject = { Key: string; ETag?: string; Size?: number; LastModified?: Date };

/** The S3 event message S3 sends for one created object. */
function notificationFor(options: BridgeOptions, obj: ListedObject, sequence: bigint) {
  const time = obj.LastModified ?? new Date();
  return objectCreatedNotification(
    [
      {
        bucket: options.bucket,
        key: obj.Key,
        size: obj.Size ?? 0,
        etag: obj.ETag ?? '',
        eventTime: time.toISOString(),
        sequencer: sequencer(time, sequence),
      },
    ],
    { region: options.region, configurationId: 'local-access-logs' },
  );
}

/**
 * S3 sequencers are hex strings that order events for the same key; compare them after padding
 * to equal length. Milliseconds since the epoch plus a per-bridge counter keep that property.
 */
function sequencer(time: Date, counter: bigint): string {
  return (BigInt(time.getTime()) * 1_000_000n + counter).toString(16).toUpperCase().padStart(18, '0');
}
