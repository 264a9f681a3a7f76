/**
 * The local AWS stand-in: fauxqs (S3 + SQS) in-process, with real @aws-sdk clients pointed at it.
 * Path-style S3, because fauxqs answers on 127.0.0.1 and virtual-hosted bucket names would need
 * DNS tricks. Used by the local stack, the CLI's `--local` modes and every test that needs S3 or SQS.
 *
 * Loopback only. fauxqs's `startFauxqs` (1.9.2, and still 2.4.1) always listens on 0.0.0.0, and
 * its `host` option only names queue URLs: anyone on the network could read the logs or enqueue
 * forced replays (it accepts any credentials). So the app comes from fauxqs's public `buildApp`
 * and we call `listen` ourselves, on 127.0.0.1. What `startFauxqs` added on top (inspectQueue)
 * is fauxqs's read-only HTTP inspection route, `GET /_fauxqs/queues/<name>`.
 *
 * fauxqs does not deliver bucket notifications; `local/` bridges those the way S3 does.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp, type FauxqsServer } from 'fauxqs';
import type { SnowpipeOptions } from 'snowflake-local';

/** The only interface local listeners bind to. */
export const LOOPBACK = '127.0.0.1';

/** A queue's messages as fauxqs holds them (ready, delayed, in flight), read without receiving them. */
export type QueueInspection = NonNullable<ReturnType<FauxqsServer['inspectQueue']>>;

export interface AwsLocal {
  /** e.g. `http://127.0.0.1:40123`; the same endpoint serves S3 and SQS. */
  endpoint: string;
  port: number;
  region: string;
  /** Dummy credentials: fauxqs accepts any, but the SDK insists on signing. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  s3: S3Client;
  sqs: SQSClient;
  /** Creates a queue (or finds it, same attributes) and returns its URL and ARN. */
  createQueue(name: string, attributes?: Record<string, string>): Promise<LocalQueue>;
  /** A queue's messages (ready, delayed, in flight) without receiving them; undefined if no such queue. */
  inspectQueue(nameOrUrl: string): Promise<QueueInspection | undefined>;
  stop(): Promise<void>;
}

export interface LocalQueue {
  url: string;
  arn: string;
}

export interface AwsLocalOptions {
  /** 0 (default) = an ephemeral port. */
  port?: number;
  region?: string;
}

/** Client options for any other @aws-sdk client (Lambda, Secrets Manager...) aimed at the same endpoint. */
export function awsLocalClientConfig(aws: Pick<AwsLocal, 'endpoint' | 'region' | 'credentials'>) {
  return { endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials };
}

/** snowflake-local's Snowpipe option: consume the S3 notifications that reach `queue`, read files from this S3. */
export function snowpipeOptions(aws: AwsLocal, queue: LocalQueue, pollMs: number): SnowpipeOptions {
  const client = awsLocalClientConfig(aws);
  return { s3: { ...client, forcePathStyle: true }, sqs: client, queueUrl: queue.url, queueArn: queue.arn, pollMs };
}

export async function startAwsLocal(options: AwsLocalOptions = {}): Promise<AwsLocal> {
  const region = options.region ?? 'us-east-1';
  const app = buildApp({ logger: false, host: LOOPBACK, defaultRegion: region });
  try {
    await app.listen({ port: options.port ?? 0, host: LOOPBACK });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('fauxqs is not listening on a TCP port.');
  const endpoint = `http://${LOOPBACK}:${address.port}`;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
  const sqs = new SQSClient({ endpoint, region, credentials });
  let stopped = false;
  return {
    endpoint,
    port: address.port,
    region,
    credentials,
    s3,
    sqs,
    async createQueue(name, attributes) {
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
      const got = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
      return { url, arn: got.Attributes!.QueueArn! };
    },
    async inspectQueue(nameOrUrl) {
      const name = nameOrUrl.split('/').pop()!;
      const res = await fetch(`${endpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`fauxqs could not inspect queue ${name}: HTTP ${res.status}.`);
      return (await res.json()) as QueueInspection;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      s3.destroy();
      sqs.destroy();
      await app.close();
    },
  };
}
