// CloudFormation custom resource (bucketMode=existing): adds this stack's ObjectCreated → queue
// entry to an existing bucket's notification configuration and, on delete, removes only that
// entry. The merge itself is pure (merge.ts); this file is the adapter to S3 and CloudFormation.
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  S3Client,
  type NotificationConfiguration,
} from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { findConflict, hasEntry, normalize, withEntry, withoutEntry, type OwnEntry } from './merge.ts';

/** Where the bucket's configuration lives; S3 in Lambda, a map in tests. */
export interface NotificationStore {
  get(bucket: string): Promise<NotificationConfiguration>;
  /**
   * `skipDestinationValidation`: S3 normally sends a test message to EVERY destination of the
   * configuration before accepting it, so one broken destination of another team (or a queue
   * deleted long ago) blocks any change. Removing our entry validates nothing of ours, so it skips.
   */
  put(
    bucket: string,
    config: NotificationConfiguration,
    options?: { skipDestinationValidation?: boolean },
  ): Promise<void>;
}

export interface ResourceProperties {
  BucketName: string;
  QueueArn: string;
  Prefix: string;
  ConfigurationId: string;
}

export type Log = (message: string, fields?: Record<string, unknown>) => void;

export function s3Store(s3: S3Client): NotificationStore {
  return {
    async get(bucket) {
      const out = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
      return normalize(out);
    },
    async put(bucket, config, options) {
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: config,
          ...(options?.skipDestinationValidation ? { SkipDestinationValidation: true } : {}),
        }),
      );
    },
  };
}

function readProperties(raw: Record<string, unknown> | undefined): ResourceProperties {
  const get = (name: keyof ResourceProperties, allowEmpty = false): string => {
    const value = raw?.[name];
    if (typeof value !== 'string' || (!allowEmpty && value === '')) {
      throw new Error(`Custom resource property ${name} must be a non-empty string.`);
    }
    return value;
  };
  return {
    BucketName: get('BucketName'),
    QueueArn: get('QueueArn'),
    Prefix: get('Prefix', true),
    ConfigurationId: get('ConfigurationId'),
  };
}

// The physical id names bucket and entry, so a change of either makes CloudFormation send a
// Delete for the old one after the update succeeds.
const physicalId = (p: ResourceProperties) => `${p.BucketName}/${p.ConfigurationId}`;

const entryOf = (p: ResourceProperties): OwnEntry => ({
  id: p.ConfigurationId,
  queueArn: p.QueueArn,
  prefix: p.Prefix,
});

/**
 * The S3 errors a deploy typically hits, restated as what to do. CloudFormation shows this text
 * in the stack events, far from the Lambda's logs.
 */
export function explainS3Error(err: unknown, bucket: string, region = process.env.AWS_REGION): Error {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const message = e.message ?? String(err);
  if (e.name === 'NoSuchBucket') {
    return new Error(
      `Bucket ${bucket} does not exist. Pass the existing logging bucket as logBucket, or deploy with --param=bucketMode=create to create it.`,
    );
  }
  if (e.name === 'PermanentRedirect' || e.name === 'AuthorizationHeaderMalformed' || status === 301) {
    return new Error(
      `Bucket ${bucket} is not in this stack's region${region ? ` (${region})` : ''}. S3 can notify only a queue in the bucket's own region: deploy the stack with --region set to the bucket's region.`,
    );
  }
  if (e.name === 'AccessDenied' || status === 403) {
    return new Error(
      `Access denied to the notification configuration of bucket ${bucket} (${message}). The bucket must be in this account, and no bucket policy, SCP or permissions boundary may deny s3:GetBucketNotification / s3:PutBucketNotification to the stack's bucketNotification role.`,
    );
  }
  if (/Unable to validate the following destination configurations/i.test(message)) {
    return new Error(
      `S3 could not deliver its test message to the ingest queue for bucket ${bucket} (${message}). The queue policy must let s3.amazonaws.com send from this bucket and account, and the queue must use SQS-managed encryption (not an AWS-managed KMS key).`,
    );
  }
  return err instanceof Error ? err : new Error(message);
}

async function addEntry(store: NotificationStore, p: ResourceProperties, replaceId?: string): Promise<void> {
  const current = await store.get(p.BucketName).catch((err: unknown) => {
    throw explainS3Error(err, p.BucketName);
  });
  const base = replaceId && replaceId !== p.ConfigurationId ? withoutEntry(current, replaceId) : current;
  const conflict = findConflict(base, entryOf(p));
  if (conflict) throw new Error(`Cannot add the notification to bucket ${p.BucketName}: ${conflict}`);
  await store.put(p.BucketName, withEntry(base, entryOf(p))).catch((err: unknown) => {
    throw explainS3Error(err, p.BucketName);
  });
}

const errorName = (err: unknown) => (err as { name?: string })?.name;
const isAccessDenied = (err: unknown) =>
  errorName(err) === 'AccessDenied' ||
  (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 403;

/**
 * Removing our entry must never wedge a stack delete: a bucket that is gone has nothing to remove,
 * and a bucket we may no longer touch (a bucket policy, SCP or permissions boundary now denies it)
 * will not let a retry through either. Both end the delete successfully with a warning that names
 * the entry to remove by hand; anything else (throttling, a network error) fails, and the delete
 * can be retried.
 */
async function removeEntry(store: NotificationStore, p: ResourceProperties, log: Log): Promise<string | undefined> {
  const leftBehind = (err: unknown) => {
    const reason =
      `Could not remove notification entry "${p.ConfigurationId}" from bucket ${p.BucketName} (access denied: ` +
      `${(err as Error)?.message ?? String(err)}); the stack is removed, but remove that entry by hand with ` +
      `aws s3api put-bucket-notification-configuration, or it keeps pointing at the deleted queue.`;
    log(reason, { level: 'WARN', bucket: p.BucketName, configurationId: p.ConfigurationId });
    return reason;
  };
  let current: NotificationConfiguration;
  try {
    current = await store.get(p.BucketName);
  } catch (err) {
    if (errorName(err) === 'NoSuchBucket') {
      log('bucket no longer exists; nothing to remove', { bucket: p.BucketName });
      return undefined;
    }
    if (isAccessDenied(err)) return leftBehind(err);
    throw explainS3Error(err, p.BucketName);
  }
  if (!hasEntry(current, p.ConfigurationId)) return undefined;
  try {
    await store.put(p.BucketName, withoutEntry(current, p.ConfigurationId), { skipDestinationValidation: true });
  } catch (err) {
    if (errorName(err) === 'NoSuchBucket') return undefined;
    if (isAccessDenied(err)) return leftBehind(err);
    throw explainS3Error(err, p.BucketName);
  }
  return undefined;
}

/** Applies the event; returns the physical resource id to report (and a warning, if any). */
export async function applyEvent(
  event: CloudFormationCustomResourceEvent,
  store: NotificationStore,
  log: Log,
): Promise<{ id: string; warning?: string }> {
  switch (event.RequestType) {
    case 'Create': {
      const p = readProperties(event.ResourceProperties);
      await addEntry(store, p);
      return { id: physicalId(p) };
    }
    case 'Update': {
      const p = readProperties(event.ResourceProperties);
      const old = readProperties(event.OldResourceProperties);
      // Same bucket: swap the entry in one write. Another bucket: add it there; CloudFormation
      // then deletes the old physical resource, which removes the entry from the old bucket.
      await addEntry(store, p, old.BucketName === p.BucketName ? old.ConfigurationId : undefined);
      return { id: physicalId(p) };
    }
    case 'Delete': {
      let p: ResourceProperties;
      try {
        p = readProperties(event.ResourceProperties);
      } catch {
        return { id: event.PhysicalResourceId }; // a create that never got far enough to add anything
      }
      // A failed Create reports a placeholder id; nothing of ours was written then.
      if (event.PhysicalResourceId !== physicalId(p)) {
        log('delete of a resource that was never created; nothing to remove', {
          physicalResourceId: event.PhysicalResourceId,
        });
        return { id: event.PhysicalResourceId };
      }
      const warning = await removeEntry(store, p, log);
      return warning ? { id: event.PhysicalResourceId, warning } : { id: event.PhysicalResourceId };
    }
  }
}

export type Respond = (url: string, body: CloudFormationCustomResourceResponse) => Promise<void>;

/** How long the answer to CloudFormation may take; the guard keeps this much of the Lambda's time. */
export const RESPONSE_RESERVE_MS = 10_000;

/** PUT the result to CloudFormation's pre-signed S3 URL. */
export const respondOverHttp: Respond = async (url, body) => {
  const json = JSON.stringify(body);
  // The URL is pre-signed without a content type; sending one would break the signature.
  const res = await fetch(url, {
    method: 'PUT',
    body: json,
    headers: { 'content-type': '' },
    signal: AbortSignal.timeout(RESPONSE_RESERVE_MS - 1_000),
  });
  if (!res.ok) throw new Error(`CloudFormation response upload failed: HTTP ${res.status}`);
};

const defaultLog: Log = (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields }));

class DeadlineError extends Error {}

/** `work`, or a DeadlineError once `ms` have passed, whichever comes first. */
async function beforeDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError()), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The Lambda context's clock; tests pass their own. */
export interface Clock {
  getRemainingTimeInMillis(): number;
}

/**
 * The handler always answers CloudFormation, and before the Lambda times out: the work races a
 * deadline RESPONSE_RESERVE_MS before the end of the invocation, and the answer itself has that
 * reserve. (Without an answer, CloudFormation would wait for the resource's ServiceTimeout.)
 */
export function createBucketNotificationHandler(deps: { store: NotificationStore; respond?: Respond; log?: Log }) {
  const respond = deps.respond ?? respondOverHttp;
  const log = deps.log ?? defaultLog;
  return async (event: CloudFormationCustomResourceEvent, clock?: Clock): Promise<void> => {
    const base = {
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    };
    log('custom resource request', {
      requestType: event.RequestType,
      logicalResourceId: event.LogicalResourceId,
      bucket: (event.ResourceProperties as Record<string, unknown> | undefined)?.BucketName,
    });
    const budget = clock ? clock.getRemainingTimeInMillis() - RESPONSE_RESERVE_MS : Number.POSITIVE_INFINITY;
    let body: CloudFormationCustomResourceResponse;
    try {
      const work = applyEvent(event, deps.store, log);
      const { id, warning } = Number.isFinite(budget) ? await beforeDeadline(work, budget) : await work;
      body = {
        ...base,
        Status: 'SUCCESS',
        PhysicalResourceId: id,
        ...(warning ? { Reason: warning.slice(0, 1000) } : {}),
      };
    } catch (err) {
      const reason =
        err instanceof DeadlineError
          ? `The ${event.RequestType} of the notification entry did not finish before the function's time ran out (S3 did not answer in time); nothing may have changed. Retry the deployment or removal.`
          : err instanceof Error
            ? err.message
            : String(err);
      log('custom resource failed', { reason });
      // A create cut short may still have written the entry: report the real id, so that the
      // rollback's Delete removes it. Any other failed create wrote nothing.
      const fallbackId =
        event.RequestType !== 'Create'
          ? event.PhysicalResourceId
          : err instanceof DeadlineError
            ? physicalId(readProperties(event.ResourceProperties))
            : `failed-${event.RequestId}`;
      // CloudFormation shows Reason in the stack events; keep it within its 4 KB response limit.
      body = { ...base, Status: 'FAILED', Reason: reason.slice(0, 1000), PhysicalResourceId: fallbackId };
    }
    await respond(event.ResponseURL, body);
  };
}

let lambdaHandler: ReturnType<typeof createBucketNotificationHandler> | undefined;

export const handler = async (event: CloudFormationCustomResourceEvent, context: Clock): Promise<void> => {
  // Bounded S3 calls: a hung connection must not eat the whole invocation.
  lambdaHandler ??= createBucketNotificationHandler({
    store: s3Store(
      new S3Client({ maxAttempts: 3, requestHandler: { connectionTimeout: 5_000, requestTimeout: 20_000 } }),
    ),
  });
  await lambdaHandler(event, context);
};
