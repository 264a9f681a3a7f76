// The custom resource that merges our queue entry into an existing bucket's notification
// configuration. The merge is pure; the handler runs against an in-memory store standing in for
// the bucket's configuration and a real HTTP server standing in for CloudFormation's response URL.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FilterRule, NotificationConfiguration } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBucketNotificationHandler,
  explainS3Error,
  RESPONSE_RESERVE_MS,
  type NotificationStore,
} from '../../functions/bucket-notification/handler.ts';
import { findConflict, withEntry, withoutEntry } from '../../functions/bucket-notification/merge.ts';

// S3 answers with capitalised rule names ("Prefix") although the SDK type says "prefix".
const rule = (Name: string, Value: string) => ({ Name, Value }) as FilterRule;

const QUEUE = 'arn:aws:sqs:eu-west-1:111122223333:s3-access-logs-dev-ingest';

/** What a real bucket might already have: other teams' queue, Lambda, topic and EventBridge. */
function existingConfig(): NotificationConfiguration {
  return {
    QueueConfigurations: [
      {
        Id: 'other-team-queue',
        QueueArn: 'arn:aws:sqs:eu-west-1:111122223333:other',
        Events: ['s3:ObjectRemoved:*'],
      },
    ],
    LambdaFunctionConfigurations: [
      {
        Id: 'thumbnailer',
        LambdaFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:thumbs',
        Events: ['s3:ObjectCreated:Put'],
        Filter: { Key: { FilterRules: [rule('Prefix', 'images/')] } },
      },
    ],
    TopicConfigurations: [
      {
        Id: 'audit-topic',
        TopicArn: 'arn:aws:sns:eu-west-1:111122223333:audit',
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [rule('Suffix', '.csv'), rule('Prefix', 'exports/')] } },
      },
    ],
    EventBridgeConfiguration: {},
  };
}

const entry = { id: 's3-access-logs-dev-ingest', queueArn: QUEUE, prefix: 'logs/' };

describe('merge', () => {
  it('create keeps every existing queue, Lambda, topic and EventBridge configuration', () => {
    const before = existingConfig();
    const after = withEntry(before, entry);
    expect(after.LambdaFunctionConfigurations).toEqual(before.LambdaFunctionConfigurations);
    expect(after.TopicConfigurations).toEqual(before.TopicConfigurations);
    expect(after.EventBridgeConfiguration).toEqual({});
    expect(after.QueueConfigurations).toEqual([
      before.QueueConfigurations![0],
      {
        Id: entry.id,
        QueueArn: QUEUE,
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'logs/' }] } },
      },
    ]);
    expect(before).toEqual(existingConfig()); // input not mutated
  });

  it('create on an empty configuration adds only our entry; an empty prefix means no filter', () => {
    expect(withEntry({}, { ...entry, prefix: '' })).toEqual({
      QueueConfigurations: [{ Id: entry.id, QueueArn: QUEUE, Events: ['s3:ObjectCreated:*'] }],
    });
  });

  it('update replaces our entry in place of the old one and keeps the others', () => {
    const created = withEntry(existingConfig(), entry);
    const updated = withEntry(created, { ...entry, prefix: 'new-logs/' });
    const ours = updated.QueueConfigurations!.filter((q) => q.Id === entry.id);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.Filter!.Key!.FilterRules).toEqual([{ Name: 'prefix', Value: 'new-logs/' }]);
    expect(withoutEntry(updated, entry.id)).toEqual(existingConfig());
  });

  it('delete removes only our entry and gives back the configuration as it was', () => {
    expect(withoutEntry(withEntry(existingConfig(), entry), entry.id)).toEqual(existingConfig());
    expect(withoutEntry({ QueueConfigurations: [{ Id: entry.id, QueueArn: QUEUE, Events: [] }] }, entry.id)).toEqual(
      {},
    );
  });

  it('drops SDK response metadata so the result can be PUT back', () => {
    const fromSdk = { ...existingConfig(), $metadata: { httpStatusCode: 200 } } as NotificationConfiguration;
    expect(withoutEntry(fromSdk, 'nope')).not.toHaveProperty('$metadata');
  });

  it('finds an overlapping rule (such as a Snowpipe notification) and names it', () => {
    const snowpipe: NotificationConfiguration = {
      QueueConfigurations: [
        {
          Id: 'snowpipe',
          QueueArn: 'arn:aws:sqs:eu-west-1:999999999999:sf-snowpipe-x',
          Events: ['s3:ObjectCreated:Put'],
          Filter: { Key: { FilterRules: [rule('Prefix', 'logs/2026')] } },
        },
      ],
    };
    const conflict = findConflict(snowpipe, entry);
    expect(conflict).toContain('sf-snowpipe-x');
    expect(conflict).toContain('"snowpipe"');
    expect(findConflict(existingConfig(), entry)).toBeUndefined(); // different prefixes/events
    expect(findConflict(withEntry(existingConfig(), entry), entry)).toBeUndefined(); // our own entry
    // No prefix overlaps every prefix; the first clashing rule is named.
    expect(findConflict(existingConfig(), { ...entry, prefix: '' })).toContain('audit-topic');
    expect(
      findConflict(
        { LambdaFunctionConfigurations: existingConfig().LambdaFunctionConfigurations },
        { ...entry, prefix: 'images/x' },
      ),
    ).toContain('thumbs');
  });
});

describe('custom resource handler', () => {
  let server: Server;
  let url = '';
  const responses: Array<{ body: Record<string, unknown>; contentType: string | undefined }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        responses.push({ body: JSON.parse(data), contentType: req.headers['content-type'] });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  function memoryStore(initial: Record<string, NotificationConfiguration>): NotificationStore & {
    buckets: Record<string, NotificationConfiguration>;
    puts: number;
    skipped: boolean[];
  } {
    const store = {
      buckets: structuredClone(initial),
      puts: 0,
      /** skipDestinationValidation of each put, in order. */
      skipped: [] as boolean[],
      async get(bucket: string) {
        const c = store.buckets[bucket];
        if (!c) throw Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' });
        return structuredClone(c);
      },
      async put(bucket: string, config: NotificationConfiguration, options?: { skipDestinationValidation?: boolean }) {
        store.puts++;
        store.skipped.push(options?.skipDestinationValidation === true);
        store.buckets[bucket] = structuredClone(config);
      },
    };
    return store;
  }

  const props = { BucketName: 'logs-bucket', QueueArn: QUEUE, Prefix: 'logs/', ConfigurationId: entry.id };
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:bn',
    ResponseURL: '',
    StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/s3-access-logs-dev/x',
    RequestId: 'req-1',
    LogicalResourceId: 'LogBucketNotification',
    ResourceType: 'Custom::BucketNotification',
  };
  const quiet = () => {};

  it('create, update and delete keep the other configurations and report to CloudFormation', async () => {
    const store = memoryStore({ 'logs-bucket': existingConfig(), 'other-bucket': {} });
    const handle = createBucketNotificationHandler({ store, log: quiet });
    const ev = (e: Record<string, unknown>) =>
      ({ ...common, ResponseURL: url, ...e }) as CloudFormationCustomResourceEvent;

    await handle(ev({ RequestType: 'Create', ResourceProperties: { ...common, ...props } }));
    let last = responses.at(-1)!;
    expect(last.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: `logs-bucket/${entry.id}`,
      RequestId: 'req-1',
    });
    expect(last.contentType ?? '').toBe('');
    expect(store.buckets['logs-bucket']).toEqual(withEntry(existingConfig(), entry));

    // Update in the same bucket with a new prefix: one write, entry swapped.
    await handle(
      ev({
        RequestType: 'Update',
        PhysicalResourceId: `logs-bucket/${entry.id}`,
        ResourceProperties: { ...common, ...props, Prefix: 'v2/' },
        OldResourceProperties: { ...common, ...props },
      }),
    );
    expect(responses.at(-1)!.body).toMatchObject({ Status: 'SUCCESS' });
    expect(store.buckets['logs-bucket']).toEqual(withEntry(existingConfig(), { ...entry, prefix: 'v2/' }));

    // Update to another bucket: added there; CloudFormation then deletes the old physical id.
    await handle(
      ev({
        RequestType: 'Update',
        PhysicalResourceId: `logs-bucket/${entry.id}`,
        ResourceProperties: { ...common, ...props, BucketName: 'other-bucket', Prefix: 'v2/' },
        OldResourceProperties: { ...common, ...props, Prefix: 'v2/' },
      }),
    );
    expect(responses.at(-1)!.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `other-bucket/${entry.id}` });
    await handle(
      ev({
        RequestType: 'Delete',
        PhysicalResourceId: `logs-bucket/${entry.id}`,
        ResourceProperties: { ...common, ...props, Prefix: 'v2/' },
      }),
    );
    expect(store.buckets['logs-bucket']).toEqual(existingConfig());
    expect(store.buckets['other-bucket']).toEqual(withEntry({}, { ...entry, prefix: 'v2/' }));

    await handle(
      ev({
        RequestType: 'Delete',
        PhysicalResourceId: `other-bucket/${entry.id}`,
        ResourceProperties: { ...common, ...props, BucketName: 'other-bucket', Prefix: 'v2/' },
      }),
    );
    last = responses.at(-1)!;
    expect(last.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `other-bucket/${entry.id}` });
    expect(store.buckets['other-bucket']).toEqual({});
  });

  it('fails a create that would clash with an existing rule, and the follow-up delete touches nothing', async () => {
    const clash: NotificationConfiguration = {
      QueueConfigurations: [{ Id: 'snowpipe', QueueArn: 'arn:aws:sqs:eu-west-1:9:sf', Events: ['s3:ObjectCreated:*'] }],
    };
    const store = memoryStore({ 'logs-bucket': clash });
    const handle = createBucketNotificationHandler({ store, log: quiet });
    await handle({
      ...common,
      ResponseURL: url,
      RequestType: 'Create',
      ResourceProperties: { ...common, ...props },
    } as CloudFormationCustomResourceEvent);
    const failed = responses.at(-1)!.body;
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toMatch(/logs-bucket.*snowpipe/);
    expect(store.puts).toBe(0);

    await handle({
      ...common,
      ResponseURL: url,
      RequestType: 'Delete',
      PhysicalResourceId: failed.PhysicalResourceId as string,
      ResourceProperties: { ...common, ...props },
    } as CloudFormationCustomResourceEvent);
    expect(responses.at(-1)!.body.Status).toBe('SUCCESS');
    expect(store.puts).toBe(0);
    expect(store.buckets['logs-bucket']).toEqual(clash);
  });

  it('delete succeeds when the bucket is already gone', async () => {
    const store = memoryStore({});
    const handle = createBucketNotificationHandler({ store, log: quiet });
    await handle({
      ...common,
      ResponseURL: url,
      RequestType: 'Delete',
      PhysicalResourceId: `logs-bucket/${entry.id}`,
      ResourceProperties: { ...common, ...props },
    } as CloudFormationCustomResourceEvent);
    expect(responses.at(-1)!.body.Status).toBe('SUCCESS');
  });

  const deleteEvent = () =>
    ({
      ...common,
      ResponseURL: url,
      RequestType: 'Delete',
      PhysicalResourceId: `logs-bucket/${entry.id}`,
      ResourceProperties: { ...common, ...props },
    }) as CloudFormationCustomResourceEvent;
  const s3Error = (name: string, status: number) =>
    Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status } });

  it('validates destinations when adding the entry, and skips validation when removing it (another destination may be broken)', async () => {
    const store = memoryStore({ 'logs-bucket': existingConfig() });
    const handle = createBucketNotificationHandler({ store, log: quiet });
    await handle({
      ...common,
      ResponseURL: url,
      RequestType: 'Create',
      ResourceProperties: { ...common, ...props },
    } as CloudFormationCustomResourceEvent);
    await handle(deleteEvent());
    expect(responses.at(-1)!.body.Status).toBe('SUCCESS');
    expect(store.skipped).toEqual([false, true]);
    expect(store.buckets['logs-bucket']).toEqual(existingConfig());
  });

  it('delete ends successfully, with the entry named for removal by hand, when S3 denies access to the bucket', async () => {
    for (const failing of ['get', 'put'] as const) {
      const store = memoryStore({ 'logs-bucket': withEntry(existingConfig(), entry) });
      const logged: string[] = [];
      store[failing] = async () => {
        throw s3Error('AccessDenied', 403);
      };
      const handle = createBucketNotificationHandler({ store, log: (m) => logged.push(m) });
      await handle(deleteEvent());
      const body = responses.at(-1)!.body;
      expect(body, failing).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `logs-bucket/${entry.id}` });
      expect(body.Reason).toMatch(
        new RegExp(`remove notification entry "${entry.id}" from bucket logs-bucket .*by hand`),
      );
      expect(logged.some((m) => m.includes(entry.id) && m.includes('access denied'))).toBe(true);
    }
  });

  it('delete succeeds when the bucket disappears between reading and writing its configuration', async () => {
    const store = memoryStore({ 'logs-bucket': withEntry(existingConfig(), entry) });
    store.put = async () => {
      throw s3Error('NoSuchBucket', 404);
    };
    await createBucketNotificationHandler({ store, log: quiet })(deleteEvent());
    expect(responses.at(-1)!.body.Status).toBe('SUCCESS');
  });

  it('delete fails (and can be retried) on an error that a retry may cure', async () => {
    const store = memoryStore({ 'logs-bucket': withEntry(existingConfig(), entry) });
    store.put = async () => {
      throw s3Error('SlowDown', 503);
    };
    await createBucketNotificationHandler({ store, log: quiet })(deleteEvent());
    expect(responses.at(-1)!.body).toMatchObject({ Status: 'FAILED', Reason: 'SlowDown from S3' });
  });

  it('answers CloudFormation before the function times out when S3 never answers', async () => {
    const hung: NotificationStore = { get: () => new Promise(() => {}), put: () => new Promise(() => {}) };
    const handle = createBucketNotificationHandler({ store: hung, log: quiet });
    // 50 ms of work left before the response reserve: the guard must answer, not wait for S3.
    const clock = { getRemainingTimeInMillis: () => RESPONSE_RESERVE_MS + 50 };
    for (const ev of [
      { ...common, ResponseURL: url, RequestType: 'Create', ResourceProperties: { ...common, ...props } },
      deleteEvent(),
    ] as CloudFormationCustomResourceEvent[]) {
      await handle(ev, clock);
      const body = responses.at(-1)!.body;
      expect(body.Status).toBe('FAILED');
      expect(body.Reason).toMatch(
        new RegExp(
          `^The ${ev.RequestType} of the notification entry did not finish before the function's time ran out`,
        ),
      );
      // A create cut short may have written the entry: the real id lets the rollback's Delete remove it.
      expect(body.PhysicalResourceId).toBe(`logs-bucket/${entry.id}`);
    }
  });

  it('fails with a clear reason when a property is missing', async () => {
    const store = memoryStore({ 'logs-bucket': {} });
    const handle = createBucketNotificationHandler({ store, log: quiet });
    await handle({
      ...common,
      ResponseURL: url,
      RequestType: 'Create',
      ResourceProperties: { ...common, ...props, QueueArn: '' },
    } as CloudFormationCustomResourceEvent);
    expect(responses.at(-1)!.body).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('QueueArn') });
  });
});

describe('S3 errors become instructions', () => {
  const sdkError = (name: string, status: number, message = name) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  it('names the bucket and says what to do', () => {
    expect(explainS3Error(sdkError('NoSuchBucket', 404), 'logs-bucket').message).toMatch(
      /logs-bucket does not exist.*bucketMode=create/,
    );
    expect(explainS3Error(sdkError('PermanentRedirect', 301), 'logs-bucket', 'eu-west-1').message).toMatch(
      /logs-bucket is not in this stack's region \(eu-west-1\).*--region/,
    );
    expect(explainS3Error(sdkError('AccessDenied', 403), 'logs-bucket').message).toMatch(
      /Access denied .* logs-bucket.*s3:PutBucketNotification/,
    );
    const validation = sdkError('InvalidArgument', 400, 'Unable to validate the following destination configurations');
    expect(explainS3Error(validation, 'logs-bucket').message).toMatch(/test message .* queue policy/);
    const other = new Error('SlowDown');
    expect(explainS3Error(other, 'logs-bucket')).toBe(other);
  });

  it('reports the explanation to CloudFormation as the failure reason', async () => {
    const reasons: string[] = [];
    const store: NotificationStore = {
      get: async () => {
        throw sdkError('PermanentRedirect', 301);
      },
      put: async () => {},
    };
    const handle = createBucketNotificationHandler({
      store,
      log: () => {},
      respond: async (_url, body) => {
        reasons.push(`${body.Status}: ${'Reason' in body ? body.Reason : ''}`);
      },
    });
    await handle({
      RequestType: 'Create',
      ResponseURL: 'http://unused',
      StackId: 's',
      RequestId: 'r',
      LogicalResourceId: 'LogBucketNotification',
      ResourceType: 'Custom::BucketNotification',
      ServiceToken: 'x',
      ResourceProperties: {
        ServiceToken: 'x',
        BucketName: 'logs-bucket',
        QueueArn: QUEUE,
        Prefix: 'logs/',
        ConfigurationId: 'id',
      },
    });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^FAILED: Bucket logs-bucket is not in this stack's region/);
  });
});
