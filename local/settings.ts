/**
 * The local stack's queue and event-source settings: the deployed ones (shared/ingest-settings.json,
 * which serverless.yml reads too), except the overrides below. Each is named with its reason, and
 * `npm start` prints them in its summary, so a local run never drifts from the template silently.
 */
import { INGEST_SETTINGS } from '../shared/ingest-settings.ts';

/** What the local stack needs to build the queues and the poller (Lambda's event-source mapping). */
export interface LocalIngestSettings {
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  messageRetentionSeconds: number;
  deadLetterRetentionSeconds: number;
  batchSize: number;
  batchingWindowMs: number;
  /** Batches in flight at once (Lambda's maximum concurrency for the mapping). */
  concurrency: number;
}

export interface LocalOverride {
  setting: string;
  deployed: string;
  local: string;
  why: string;
}

const { queue, eventSource } = INGEST_SETTINGS;

/** Where a local run departs from the deployed settings, and why. Nothing else differs. */
const OVERRIDES = {
  // Deployed, 2,100 s is sized for Lambda's throttled and retried invocations (6 x the 300 s
  // function timeout + the batching window). Locally nothing throttles the poller, and a failed
  // object would wait 35 minutes for its retry. A batch that runs longer than 30 s keeps its
  // messages invisible: the poller extends their visibility while it handles them (local/poller.ts).
  visibilityTimeoutSeconds: {
    value: 30,
    why: 'a failed object is retried within 30 s instead of 35 min; nothing throttles the local poller',
  },
  // Deployed, the window saves invocations, which cost money. Locally they are free, and 5 s would
  // add up to 5 s to every load of the quick start and the tests.
  batchingWindowSeconds: {
    value: 0.5,
    why: 'local invocations cost nothing, and a longer window only delays each load',
  },
} as const;

/** The settings the local stack runs with: deployed values plus OVERRIDES. */
export function localIngestSettings(): LocalIngestSettings {
  return {
    visibilityTimeoutSeconds: OVERRIDES.visibilityTimeoutSeconds.value,
    maxReceiveCount: queue.maxReceiveCount,
    messageRetentionSeconds: queue.messageRetentionSeconds,
    deadLetterRetentionSeconds: queue.deadLetterRetentionSeconds,
    batchSize: eventSource.batchSize,
    batchingWindowMs: OVERRIDES.batchingWindowSeconds.value * 1000,
    concurrency: eventSource.maximumConcurrency,
  };
}

/** The overrides as the stack summary prints them. */
export function localOverrides(): LocalOverride[] {
  return [
    {
      setting: 'visibility timeout',
      deployed: `${queue.visibilityTimeoutSeconds} s`,
      local: `${OVERRIDES.visibilityTimeoutSeconds.value} s`,
      why: OVERRIDES.visibilityTimeoutSeconds.why,
    },
    {
      setting: 'batching window',
      deployed: `${eventSource.batchingWindowSeconds} s`,
      local: `${OVERRIDES.batchingWindowSeconds.value} s`,
      why: OVERRIDES.batchingWindowSeconds.why,
    },
  ];
}
