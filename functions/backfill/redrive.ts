/**
 * DLQ redrive: move every message of the ingest DLQ back to the ingest queue.
 *
 * Done with receive → send → delete rather than StartMessageMoveTask, which the local emulator does
 * not implement and which needs the DLQ's redrive-allow policy. A message is deleted from the DLQ
 * only after the ingest queue accepted it; if an invocation dies in between, the message is moved
 * twice, which the ingest ledger turns into one load.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import type { BackfillDeps, InvocationContext } from './core.ts';
import type { BackfillPayload } from './request.ts';
import { BackfillRequestError } from './request.ts';

export interface RedriveSummary {
  redriveDlq: true;
  dryRun: boolean;
  /** Messages moved to the ingest queue (0 in a dry run). */
  moved: number;
  /** In a dry run: the DLQ's approximate message count. */
  waiting?: number;
  /** Messages the ingest queue refused; they stay in the DLQ. */
  failed: number;
  continuedAs?: string;
  done: boolean;
}

export async function redriveDlq(
  deps: BackfillDeps,
  payload: BackfillPayload,
  ctx: InvocationContext,
): Promise<RedriveSummary> {
  const { sqs, config } = deps;
  if (!config.dlqUrl) throw new BackfillRequestError('redriveDlq', 'no DLQ is configured (BACKFILL_DLQ_URL)');
  const dlqUrl = config.dlqUrl;
  if (payload.dryRun) {
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    const waiting = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
    return { redriveDlq: true, dryRun: true, moved: 0, waiting, failed: 0, done: true };
  }

  let moved = 0;
  let failed = 0;
  let progressed = false;
  for (;;) {
    if (progressed && ctx.getRemainingTimeInMillis() < config.safetyMarginMs) {
      const continuedAs = await deps.continueWith({ redriveDlq: true });
      deps.logger.info('DLQ redrive continues in a new invocation', { moved, continuedAs });
      return { redriveDlq: true, dryRun: false, moved, failed, continuedAs, done: false };
    }
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        // Long polling asks every SQS host, so an empty answer means the DLQ is drained.
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    progressed = true;
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    const entries: SendMessageBatchRequestEntry[] = messages.map((m, i) => {
      const entry: SendMessageBatchRequestEntry = { Id: `m${i}`, MessageBody: m.Body ?? '' };
      if (m.MessageAttributes && Object.keys(m.MessageAttributes).length > 0)
        entry.MessageAttributes = m.MessageAttributes;
      return entry;
    });
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: config.queueUrl, Entries: entries }));
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    failed += messages.length - ok.size;
    const toDelete = messages
      .map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle }))
      .filter((d) => ok.has(d.Id) && d.ReceiptHandle);
    if (toDelete.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries: toDelete }));
    }
    moved += toDelete.length;
    // A message the queue refuses would be received again forever; stop and report it instead.
    if (ok.size < messages.length) break;
  }
  deps.logger.info('DLQ redrive finished', { moved, failed });
  return { redriveDlq: true, dryRun: false, moved, failed, done: true };
}
