/**
 * Test helper: a Secrets Manager stand-in on 127.0.0.1 that answers GetSecretValue, the one call
 * the Lambdas make (fauxqs emulates S3 and SQS only). Tests talk to it with a real
 * `SecretsManagerClient` whose endpoint points here, so the SDK's request, Powertools'
 * SecretsProvider and its cache are what they exercise. Values can change (a rotation) and every
 * read is counted.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface TestSecretsManager {
  /** Secret id (name or ARN) → SecretString. */
  values: Map<string, string>;
  /** GetSecretValue calls answered so far. */
  reads: number;
  /** A real SDK client for this endpoint. */
  client(): SecretsManagerClient;
  stop(): Promise<void>;
}

function reply(res: import('node:http').ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

export async function startSecretsManager(): Promise<TestSecretsManager> {
  const secrets: TestSecretsManager = {
    values: new Map(),
    reads: 0,
    client: () => {
      throw new Error('not started');
    },
    stop: async () => {},
  };
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
      return reply(res, 400, { __type: 'UnknownOperationException', message: 'Only GetSecretValue is emulated.' });
    secrets.reads++;
    const id = (JSON.parse(text) as { SecretId: string }).SecretId;
    const value = secrets.values.get(id);
    if (value === undefined)
      return reply(res, 400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
    reply(res, 200, { ARN: id, Name: id, SecretString: value, VersionId: `v${secrets.reads}`, CreatedDate: 0 });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  secrets.client = () =>
    new SecretsManagerClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  secrets.stop = async () => {
    server.close();
    server.closeAllConnections();
    await once(server, 'close');
  };
  return secrets;
}
