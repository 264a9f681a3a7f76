import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * A local stand-in for Lambda's SQS event-source mapping, so the real ingest handler runs
 * locally exactly as it is invoked in AWS:
 *
 * - it gathers up to `batchSize` messages, waiting at most `batchingWindowMs` for a batch to fill
 *   (Lambda's MaximumBatchingWindowInSeconds), then invokes the handler once with the batch;
 * - on success it deletes every message except those the handler names in `batchItemFailures`
 *   (ReportBatchItemFailures); if the handler throws, it deletes none;
 * - a message that is not deleted reappears when the queue's visibility timeout expires, like
 *   under Lambda. While a batch is being handled, its messages are kept invisible (visibility
 *   extended every third of the timeout): in AWS the function's timeout ends an invocation long
 *   before the queue's visibility timeout (300 s against 2,100 s), but the local handler has no
 *   timeout, and the local stack's 30 s visibility would otherwise hand a long batch to a second
 *   worker, and after maxReceiveCount receives to the DLQ, while the first is still loading it;
 * - redrive to the DLQ after `maxReceiveCount` receives is the queue's own RedrivePolicy, which
 *   fauxqs implements on receive as SQS does, so the poller does not second-guess it.
 */

// biome-ignore lint/suspicious/noConfusingVoidType: the same return type as aws-lambda's SQSHandler, so a handler that returns nothing fits.
export type BatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: BatchHandler;
  /** Lambda's BatchSize (1..10,000; batches over 10 are gathered from several receives). */
  batchSize?: number;
  /** Lambda's MaximumBatchingWindowInSeconds, in ms. 0 = invoke with whatever one receive gave. */
  batchingWindowMs?: number;
  /** How many batches may be in flight at once (Lambda's concurrency for this mapping). */
  concurrency?: number;
  /** Long-poll wait per receive, seconds. Short so that stop() is quick. */
  waitTimeSeconds?: number;
  /** Called after each invocation with what happened to the batch. */
  onBatch?: (outcome: BatchOutcome) => void;
  /** Called when the handler throws (the batch stays on the queue). */
  onError?: (error: unknown) => void;
}

export interface BatchOutcome {
  received: number;
  deleted: number;
  failed: number;
  /** The handler threw: nothing was deleted. */
  threw: boolean;
  /** Message ids the handler reported as failed (or all, when it threw). */
  failedIds: string[];
}

export interface Poller {
  /** Totals since start. */
  readonly stats: {
    invocations: number;
    received: number;
    deleted: number;
    failed: number;
    /** Batches being handled now, and the most there ever were at once. */
    inFlight: number;
    maxInFlight: number;
  };
  stop(): Promise<void>;
}

/** What the steps below share: the options with defaults applied, the totals and the run state. */
interface PollerState {
  options: PollerOptions;
  batchSize: number;
  windowMs: number;
  waitTimeSeconds: number;
  stats: Poller['stats'];
  abort: AbortController;
  stopped: boolean;
  /** The queue as Lambda names it in each record. */
  queueArn: string;
  region: string;
  /** The queue's VisibilityTimeout, seconds (0: unknown, no heartbeat). */
  visibilitySeconds: number;
}

export function startPoller(options: PollerOptions): Poller {
  const batchSize = options.batchSize ?? 10;
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new Error(`batchSize must be 1..10000, got ${batchSize}`);
  if (!(concurrency >= 1)) throw new Error(`concurrency must be >= 1, got ${concurrency}`);
  const state: PollerState = {
    options,
    batchSize,
    windowMs: options.batchingWindowMs ?? 0,
    waitTimeSeconds: options.waitTimeSeconds ?? 1,
    stats: { invocations: 0, received: 0, deleted: 0, failed: 0, inFlight: 0, maxInFlight: 0 },
    abort: new AbortController(),
    stopped: false,
    queueArn: '',
    region: 'us-east-1',
    visibilitySeconds: 0,
  };
  const workers = describeQueue(state)
    .catch((err) => {
      if (!state.stopped) options.onError?.(err);
    })
    .then(() => Promise.all(Array.from({ length: concurrency }, () => worker(state))));

  return {
    stats: state.stats,
    /** Waits for the receive in progress (at most waitTimeSeconds) and the batch being handled. */
    async stop() {
      state.stopped = true;
      state.abort.abort();
      await workers;
    },
  };
}

async function describeQueue(state: PollerState): Promise<void> {
  const { sqs, queueUrl } = state.options;
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'VisibilityTimeout'] }),
    {
      abortSignal: state.abort.signal,
    },
  );
  state.queueArn = out.Attributes?.QueueArn ?? '';
  state.visibilitySeconds = Number(out.Attributes?.VisibilityTimeout ?? 0) || 0;
  state.region = state.queueArn.split(':')[3] || ((await sqs.config.region()) ?? state.region);
}

/** One poller worker: gather a batch, invoke the handler, again, until stopped. */
async function worker(state: PollerState): Promise<void> {
  while (!state.stopped) {
    try {
      const batch = await gather(state);
      if (batch.length === 0) continue;
      // Stopped while gathering: hand the batch back rather than strand it until its visibility timeout.
      if (state.stopped) await release(state.options, batch);
      else await invoke(state, batch);
    } catch (err) {
      if (state.stopped) return;
      state.options.onError?.(err);
      await sleep(200);
    }
  }
}

async function receive(options: PollerOptions, max: number, wait: number): Promise<Message[]> {
  const out = await options.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: Math.min(10, max),
      WaitTimeSeconds: wait,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

/** One batch, gathered the way Lambda does: until full or until the window closes. */
async function gather(state: PollerState): Promise<Message[]> {
  const { options, batchSize, windowMs, waitTimeSeconds } = state;
  const batch = await receive(options, batchSize, waitTimeSeconds);
  if (batch.length === 0 || windowMs <= 0) return batch;
  const deadline = Date.now() + windowMs;
  while (batch.length < batchSize && !state.stopped) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const more = await receive(options, batchSize - batch.length, Math.min(waitTimeSeconds, Math.floor(left / 1000)));
    batch.push(...more);
    if (more.length === 0 && left < 1000) await sleep(Math.min(left, 100));
  }
  return batch;
}

function toRecord(state: PollerState, m: Message): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: state.queueArn,
    awsRegion: state.region,
  };
}

async function deleteAll(options: PollerOptions, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const out = await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    if (out.Failed && out.Failed.length > 0) {
      throw new Error(
        `could not delete ${out.Failed.length} processed message(s): ${out.Failed[0]?.Message ?? 'unknown'}`,
      );
    }
  }
}

async function setVisibility(options: PollerOptions, messages: Message[], seconds: number): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await options.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: messages
          .slice(i, i + 10)
          .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: seconds })),
      }),
    );
  }
}

function release(options: PollerOptions, messages: Message[]): Promise<void> {
  return setVisibility(options, messages, 0);
}

/**
 * Keeps a batch's messages invisible while it is handled (see the module comment). The returned
 * stop waits for an extension in flight, so none can reach the queue after the batch's deletes.
 */
function keepInvisible(state: PollerState, messages: Message[]): () => Promise<void> {
  const seconds = state.visibilitySeconds;
  if (seconds <= 0) return async () => undefined;
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      pending = setVisibility(state.options, messages, seconds).catch((err) => state.options.onError?.(err));
    },
    (seconds * 1000) / 3,
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    return pending;
  };
}

/** The handler's failed message ids: those it reported, or all when it threw. */
async function handle(state: PollerState, messages: Message[]): Promise<{ failedIds: string[]; threw: boolean }> {
  try {
    const response = await state.options.handler({ Records: messages.map((m) => toRecord(state, m)) });
    const reported = response?.batchItemFailures?.map((f) => f.itemIdentifier) ?? [];
    // Lambda treats an identifier that is not in the batch as a failure of the whole batch.
    const ids = new Set(messages.map((m) => m.MessageId));
    const failedIds = reported.some((id) => !ids.has(id)) ? [...ids].filter((id): id is string => !!id) : reported;
    return { failedIds, threw: false };
  } catch (err) {
    state.options.onError?.(err);
    return { failedIds: messages.map((m) => m.MessageId ?? ''), threw: true };
  }
}

/** One invocation: the handler, then every message it did not report as failed is deleted. */
async function invoke(state: PollerState, messages: Message[]): Promise<void> {
  const { stats } = state;
  stats.invocations++;
  stats.received += messages.length;
  stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
  const stopHeartbeat = keepInvisible(state, messages);
  const { failedIds, threw } = await handle(state, messages).finally(async () => {
    await stopHeartbeat();
    stats.inFlight--;
  });
  const failed = new Set(failedIds);
  const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
  await deleteAll(state.options, done);
  stats.deleted += done.length;
  stats.failed += messages.length - done.length;
  state.options.onBatch?.({
    received: messages.length,
    deleted: done.length,
    failed: messages.length - done.length,
    threw,
    failedIds,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
