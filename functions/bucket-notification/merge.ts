// Pure merge logic for the bucket's notification configuration.
//
// S3 has one notification configuration per bucket and PutBucketNotificationConfiguration
// replaces all of it. The logging bucket usually already exists and may already notify other
// queues, topics, Lambda functions or EventBridge. So we read it, change only the one queue entry
// whose Id we own, and write the rest back exactly as it was.
import type { FilterRule, NotificationConfiguration, QueueConfiguration } from '@aws-sdk/client-s3';

/** The one entry this stack owns: ObjectCreated events under `prefix` go to `queueArn`. */
export interface OwnEntry {
  id: string;
  queueArn: string;
  prefix: string;
  events?: string[];
}

export const DEFAULT_EVENTS = ['s3:ObjectCreated:*'];

/** Only the keys S3 accepts in PutBucketNotificationConfiguration (drops `$metadata` etc.). */
export function normalize(config: NotificationConfiguration | undefined): NotificationConfiguration {
  const out: NotificationConfiguration = {};
  if (config?.TopicConfigurations?.length) out.TopicConfigurations = [...config.TopicConfigurations];
  if (config?.QueueConfigurations?.length) out.QueueConfigurations = [...config.QueueConfigurations];
  if (config?.LambdaFunctionConfigurations?.length) {
    out.LambdaFunctionConfigurations = [...config.LambdaFunctionConfigurations];
  }
  if (config?.EventBridgeConfiguration) out.EventBridgeConfiguration = config.EventBridgeConfiguration;
  return out;
}

export function toQueueConfiguration(entry: OwnEntry): QueueConfiguration {
  const rules: FilterRule[] = entry.prefix ? [{ Name: 'prefix', Value: entry.prefix }] : [];
  return {
    Id: entry.id,
    QueueArn: entry.queueArn,
    Events: (entry.events ?? DEFAULT_EVENTS) as QueueConfiguration['Events'],
    ...(rules.length ? { Filter: { Key: { FilterRules: rules } } } : {}),
  };
}

/** The configuration with our entry added, or replaced if an entry with its Id exists. */
export function withEntry(current: NotificationConfiguration | undefined, entry: OwnEntry): NotificationConfiguration {
  const base = withoutEntry(current, entry.id);
  return { ...base, QueueConfigurations: [...(base.QueueConfigurations ?? []), toQueueConfiguration(entry)] };
}

/** The configuration without the queue entry whose Id is `id`; everything else untouched. */
export function withoutEntry(current: NotificationConfiguration | undefined, id: string): NotificationConfiguration {
  const out = normalize(current);
  const kept = (out.QueueConfigurations ?? []).filter((q) => q.Id !== id);
  if (kept.length) out.QueueConfigurations = kept;
  else delete out.QueueConfigurations;
  return out;
}

export function hasEntry(current: NotificationConfiguration | undefined, id: string): boolean {
  return (current?.QueueConfigurations ?? []).some((q) => q.Id === id);
}

interface Destination {
  kind: 'queue' | 'topic' | 'Lambda function';
  id: string | undefined;
  arn: string | undefined;
  events: string[];
  prefix: string;
  suffix: string;
}

function filterValue(rules: FilterRule[] | undefined, name: 'prefix' | 'suffix'): string {
  const rule = rules?.find((r) => r.Name?.toLowerCase() === name);
  return rule?.Value ?? '';
}

function destinations(config: NotificationConfiguration | undefined): Destination[] {
  const out: Destination[] = [];
  const add = (
    kind: Destination['kind'],
    items: Array<{ Id?: string; Events?: string[]; Filter?: { Key?: { FilterRules?: FilterRule[] } } }> | undefined,
    arnOf: (item: never) => string | undefined,
  ) => {
    for (const item of items ?? []) {
      const rules = item.Filter?.Key?.FilterRules;
      out.push({
        kind,
        id: item.Id,
        arn: arnOf(item as never),
        events: item.Events ?? [],
        prefix: filterValue(rules, 'prefix'),
        suffix: filterValue(rules, 'suffix'),
      });
    }
  };
  add('queue', config?.QueueConfigurations, (q: QueueConfiguration) => q.QueueArn);
  add('topic', config?.TopicConfigurations, (t: { TopicArn?: string }) => t.TopicArn);
  add(
    'Lambda function',
    config?.LambdaFunctionConfigurations,
    (l: { LambdaFunctionArn?: string }) => l.LambdaFunctionArn,
  );
  return out;
}

/** `s3:ObjectCreated:*` matches `s3:ObjectCreated:Put`; `s3:ObjectCreated:Put` only itself. */
function eventsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const wild = (x: string) => (x.endsWith(':*') ? x.slice(0, -1) : null);
  const wa = wild(a);
  const wb = wild(b);
  return (wa !== null && b.startsWith(wa)) || (wb !== null && a.startsWith(wb));
}

/**
 * S3 rejects two rules for an overlapping event type whose prefixes and suffixes both overlap
 * ("Configuration is ambiguously defined"). That error names neither rule, so we find the
 * conflicting rule ourselves and say which one it is.
 */
export function findConflict(current: NotificationConfiguration | undefined, entry: OwnEntry): string | undefined {
  const mine = entry.events ?? DEFAULT_EVENTS;
  for (const d of destinations(current)) {
    if (d.kind === 'queue' && d.id === entry.id) continue;
    const eventClash = d.events.some((e) => mine.some((m) => eventsOverlap(e, m)));
    const prefixClash = d.prefix.startsWith(entry.prefix) || entry.prefix.startsWith(d.prefix);
    // Our entry has no suffix filter, so any suffix of theirs overlaps it.
    if (eventClash && prefixClash) {
      return (
        `the bucket already sends ${d.events.join(', ')} events` +
        `${d.prefix ? ` under prefix "${d.prefix}"` : ''}${d.suffix ? ` with suffix "${d.suffix}"` : ''}` +
        ` to ${d.kind} ${d.arn ?? '(unknown)'}${d.id ? ` (configuration id "${d.id}")` : ''},` +
        ` which overlaps ObjectCreated events under "${entry.prefix}"; S3 allows only one destination` +
        ` per overlapping event and key filter. Remove that entry (for example a Snowpipe auto-ingest` +
        ` notification this pipeline replaces) or deploy with a different logPrefix.`
      );
    }
  }
  return undefined;
}
