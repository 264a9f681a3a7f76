// CloudFormation custom resource (bucketMode=existing): adds this stack's ObjectCreated → queue
// entry to an existing bucket's notification configuration and, on delete, removes only that
// entry. The merge itself is pure (merge.ts); this file is the adapter to S3 and CloudFormation.
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  S3Client,
  type NotificationConfiguration,
} from '@aws-sdk/client-s3';
import type {
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceResponse,
} from 'aws-lambda';
import { findConflict, hasEntry, normalize, withEntry, withoutEntry, type OwnEntry } from './merge.ts';

/** Where the bucket's configuration lives; S3 in Lambda, a map in tests. */
export interface NotificationStore {
  get(bucket: string): Promise<NotificationConfiguration>;
  put(bucket: string, config: NotificationConfiguration): Promise<void>;
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
    async put(bucket, config) {
      await s3.send(
        new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: config }),
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
    return new Error(`Bucket ${bucket} does not exist. Pass the existing logging bucket as logBucket, or deploy with --param=bucketMode=create to create it.`);
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

async function removeEntry(store: NotificationStore, p: ResourceProperties, log: Log): Promise<void> {
  let current: NotificationConfiguration;
  try {
    current = await store.get(p.BucketName);
  } catch (err) {
    // Nothing to clean up when the bucket is gone; failing here would wedge the stack delete.
    if ((err as { name?: string }).name === 'NoSuchBucket') {
      log('bucket no longer exists; nothing to remove', { bucket: p.BucketName });
      return;
    }
    throw explainS3Error(err, p.BucketName);
  }
  if (!hasEntry(current, p.ConfigurationId)) return;
  await store.put(p.BucketName, withoutEntry(current, p.ConfigurationId)).catch((err: unknown) => {
    throw explainS3Error(err, p.BucketName);
  });
}

/** Applies the event; returns the physical resource id to report. */
export async function applyEvent(
  event: CloudFormationCustomResourceEvent,
  store: NotificationStore,
  log: Log,
): Promise<string> {
  switch (event.RequestType) {
    case 'Create': {
      const p = readProperties(event.ResourceProperties);
      await addEntry(store, p);
      return physicalId(p);
    }
    case 'Update': {
      const p = readProperties(event.ResourceProperties);
      const old = readProperties(event.OldResourceProperties);
      // Same bucket: swap the entry in one write. Another bucket: add it there; CloudFormation
      // then deletes the old physical resource, which removes the entry from the old bucket.
      await addEntry(store, p, old.BucketName === p.BucketName ? old.ConfigurationId : undefined);
      return physicalId(p);
    }
    case 'Delete': {
      let p: ResourceProperties;
      try {
        p = readProperties(event.ResourceProperties);
      } catch {
        return event.PhysicalResourceId; // a create that never got far enough to add anything
      }
      // A failed Create reports a placeholder id; nothing of ours was written then.
      if (event.PhysicalResourceId !== physicalId(p)) {
        log('delete of a resource that was never created; nothing to remove', {
          physicalResourceId: event.PhysicalResourceId,
        });
        return event.PhysicalResourceId;
      }
      await removeEntry(store, p, log);
      return event.PhysicalResourceId;
    }
  }
}

export type Respond = (url: string, body: CloudFormationCustomResourceResponse) => Promise<void>;

/** PUT the result to CloudFormation's pre-signed S3 URL. */
export const respondOverHttp: Respond = async (url, body) => {
  const json = JSON.stringify(body);
  // The URL is pre-signed without a content type; sending one would break the signature.
  const res = await fetch(url, { method: 'PUT', body: json, headers: { 'content-type': '' } });
  if (!res.ok) throw new Error(`CloudFormation response upload failed: HTTP ${res.status}`);
};

const defaultLog: Log = (message, fields) =>
  console.log(JSON.stringify({ level: 'INFO', message, ...fields }));

export function createBucketNotificationHandler(deps: { store: NotificationStore; respond?: Respond; log?: Log }) {
  const respond = deps.respond ?? respondOverHttp;
  const log = deps.log ?? defaultLog;
  return async (event: CloudFormationCustomResourceEvent): Promise<void> => {
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
    let body: CloudFormationCustomResourceResponse;
    try {
      const id = await applyEvent(event, deps.store, log);
      body = { ...base, Status: 'SUCCESS', PhysicalResourceId: id };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log('custom resource failed', { reason });
      const fallbackId =
        event.RequestType === 'Create' ? `failed-${event.RequestId}` : event.PhysicalResourceId;
      // CloudFormation shows Reason in the stack events; keep it within its 4 KB response limit.
      body = { ...base, Status: 'FAILED', Reason: reason.slice(0, 1000), PhysicalResourceId: fallbackId };
    }
    await respond(event.ResponseURL, body);
  };
}

let lambdaHandler: ((event: CloudFormationCustomResourceEvent) => Promise<void>) | undefined;

export const handler = async (event: CloudFormationCustomResourceEvent): Promise<void> => {
  lambdaHandler ??= createBucketNotificationHandler({ store: s3Store(new S3Client({})) });
  await lambdaHandler(event);
};
