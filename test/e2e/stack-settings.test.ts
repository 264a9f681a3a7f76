import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSample } from '../../local/sample/index.ts';
import { localIngestSettings, localOverrides } from '../../local/settings.ts';
import { startStack } from '../../local/stack.ts';
import { INGEST_SETTINGS } from '../../shared/ingest-settings.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 's3al-stack-settings-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('local stack: the deployed queue and event-source settings', () => {
  it('differ locally only by the named overrides', () => {
    const local = localIngestSettings();
    const { queue, eventSource } = INGEST_SETTINGS;
    expect(local).toEqual({
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: queue.maxReceiveCount,
      messageRetentionSeconds: queue.messageRetentionSeconds,
      deadLetterRetentionSeconds: queue.deadLetterRetentionSeconds,
      batchSize: eventSource.batchSize,
      batchingWindowMs: 500,
      concurrency: eventSource.maximumConcurrency,
    });
    expect(localOverrides().map((o) => [o.setting, o.deployed, o.local])).toEqual([
      ['visibility timeout', `${queue.visibilityTimeoutSeconds} s`, '30 s'],
      ['batching window', `${eventSource.batchingWindowSeconds} s`, '0.5 s'],
    ]);
    expect(local.concurrency).toBeGreaterThanOrEqual(2);
  });

  it('builds the queue with them and runs several batches at once while loading the sample', async () => {
    const stack = await startStack({ awsPort: 0, snowflakePort: 0, dataDir, logLevel: 'SILENT', loadMethod: 'insert' });
    try {
      const attributes = async (url: string) =>
        (await stack.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
          .Attributes!;
      const queue = await attributes(stack.info.queueUrl);
      const dlq = await attributes(stack.info.dlqUrl);
      const settings = localIngestSettings();
      expect(queue.VisibilityTimeout).toBe(String(settings.visibilityTimeoutSeconds));
      expect(queue.MessageRetentionPeriod).toBe(String(INGEST_SETTINGS.queue.messageRetentionSeconds));
      expect(JSON.parse(queue.RedrivePolicy!)).toEqual({
        deadLetterTargetArn: dlq.QueueArn,
        maxReceiveCount: INGEST_SETTINGS.queue.maxReceiveCount,
      });
      expect(dlq.MessageRetentionPeriod).toBe(String(INGEST_SETTINGS.queue.deadLetterRetentionSeconds));

      const sample = generateSample({ seed: 'settings', days: 1 });
      const summary = await stack.load({ kind: 'sample', options: { seed: 'settings', days: 1 } });
      expect(summary).toMatchObject({ uploaded: sample.objects.length, objects: sample.objects.length, dlq: 0 });
      expect(stack.batches.maxInFlight).toBeGreaterThanOrEqual(2);
      expect(stack.batches.maxInFlight).toBeLessThanOrEqual(settings.concurrency);
      expect(stack.batches.received).toBeGreaterThanOrEqual(sample.objects.length);
    } finally {
      await stack.stop();
    }
  }, 120_000);
});
