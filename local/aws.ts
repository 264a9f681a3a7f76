/**
 * The local AWS stand-in: fauxqs (S3 + SQS) started in-process, with real @aws-sdk clients
 * pointed at it. Path-style S3, because fauxqs answers on 127.0.0.1 and virtual-hosted bucket
 * names would need DNS tricks. Used by the local stack, the CLI's `--local` modes and every test
 * that needs S3 or SQS.
 *
 * fauxqs does not deliver bucket notifications; `local/` bridges those the way S3 does.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';

export interface AwsLocal {
  /** e.g. `http://127.0.0.1:40123`; the same endpoint serves S3 and SQS. */
  endpoint: string;
  region: string;
  /** Dummy credentials: fauxqs accepts any, but the SDK insists on signing. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  s3: S3Client;
  sqs: SQSClient;
  /** The fauxqs server, for direct setup (createBucket, createQueue, inspectQueue, reset). */
  server: FauxqsServer;
  stop(): Promise<void>;
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

export async function startAwsLocal(options: AwsLocalOptions = {}): Promise<AwsLocal> {
  const region = options.region ?? 'us-east-1';
  const server = await startFauxqs({
    port: options.port ?? 0,
    host: '127.0.0.1',
    logger: false,
    defaultRegion: region,
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
  const sqs = new SQSClient({ endpoint, region, credentials });
  let stopped = false;
  return {
    endpoint,
    region,
    credentials,
    s3,
    sqs,
    server,
    async stop() {
      if (stopped) return;
      stopped = true;
      s3.destroy();
      sqs.destroy();
      await server.stop();
    },
  };
}
