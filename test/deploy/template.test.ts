// `npm run package` offline (no AWS credentials; no network where `unshare` can take it away;
// into a private directory, see S3AL_DIST_DIR below),
// then assertions on the CloudFormation templates osls writes, for both bucket modes:
// resources and key properties, queue/DLQ/event-source settings, alarms, and every IAM
// statement, action by action and resource by resource. Also the esbuild bundles: present,
// free of dev-only packages, and their sizes.
import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import snowflake from 'snowflake-sdk';
import { SESSION_SETUP } from '../../functions/ingest/handler.ts';
import { startAwsLocal } from '../../local/aws.ts';
import { startSnowflakeLocal } from 'snowflake-local';
import { notificationBody } from '../../local/harness/events.ts';
import { generateText } from '../../local/sample/lines.ts';
import { configureSnowflakeSdk, execute } from '../../shared/snowflake/connection.ts';
import { applySqlFiles, tableSqlFiles } from '../../shared/snowflake/sql-files.ts';
import { loadBackfillConfig, loadIngestConfig } from '../../shared/config.ts';
import { INGEST_SETTINGS } from '../../shared/ingest-settings.ts';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FUNCTIONS = ['ingest', 'backfill', 'bucket-notification'] as const;

// Placeholder values for rendering intrinsic functions; the template must not contain them.
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:snowflake/s3-access-logs-AbCdEf`;
const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

// Defaults otherwise: loadMethod=pipe, before the handshake (placeholder trust, no notification).
const EXISTING_PARAMS = {
  logBucket: 'acme-access-logs',
  logPrefix: 'logs/',
  snowflakeSecretArn: SECRET,
  alarmEmail: 'ops@example.com',
};
// The pipe handshake's values (docs/pipe-setup.md), as DESC INTEGRATION and SHOW PIPES show them.
const SNOWFLAKE_IAM_USER = 'arn:aws:iam::210987654321:user/abc1-s-p2ss1234';
const SNOWFLAKE_EXTERNAL_ID = 'MYACCOUNT_SFCRole=2_abcdefg=';
const SNOWPIPE_QUEUE = 'arn:aws:sqs:us-east-1:210987654321:sf-snowpipe-AIDAEXAMPLE-abcdefghijk';
// bucketMode=create, loadMethod=insert, and the handshake done (a team that went back from pipe
// to insert keeps the bucket, the role and its trust: switching back is one parameter).
const CREATE_PARAMS = {
  logBucket: 'acme-new-access-logs',
  loadMethod: 'insert',
  snowflakeIamUserArn: SNOWFLAKE_IAM_USER,
  snowflakeExternalId: SNOWFLAKE_EXTERNAL_ID,
  snowpipeQueueArn: SNOWPIPE_QUEUE,
  snowflakeSecretArn: SECRET,
  bucketMode: 'create',
  secretKmsKeyArn: KMS_KEY,
  batchSize: '50',
  batchingWindow: '20',
  maxConcurrency: '3',
  logRetentionDays: '90',
  loadMode: 'raw',
  noLoadAlarmHours: '12',
};

const paramArgs = (p: Record<string, string>) => Object.entries(p).map(([k, v]) => `--param=${k}=${v}`);

/** The child environment: no AWS credentials or profile of any kind. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^AWS_/.test(k)) env[k] = v;
  const nowhere = path.join(os.tmpdir(), 'no-aws-config-here');
  return { ...env, AWS_SHARED_CREDENTIALS_FILE: nowhere, AWS_CONFIG_FILE: nowhere, AWS_EC2_METADATA_DISABLED: 'true' };
}

/** `unshare -rn` runs a command in a network namespace with no interfaces: proof of "offline". */
const canDropNetwork = (() => {
  try {
    execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
function offline(cmd: string, args: string[]): [string, string[]] {
  return canDropNetwork ? ['unshare', ['-rn', cmd, ...args]] : [cmd, args];
}

// biome-ignore lint/suspicious/noExplicitAny: the test walks the synthesized CloudFormation JSON freely; its shape is what it asserts.
type Json = any;
type Template = { Resources: Record<string, Json>; Conditions: Record<string, Json>; Outputs: Record<string, Json> };

const timings: Record<string, number> = {};
let existing: Template;
let existingText = '';
let existingState: Json;
let create: Template;
// Everything this suite builds and packages goes into a private directory (S3AL_DIST_DIR and
// `--package`), so that another `npm test` or `npm run package` in the same checkout cannot
// delete a bundle or template under it mid-run. It is exactly what `npm run package` produces in
// dist/ and .serverless/ otherwise.
let work = '';
let DIST = '';

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 's3al-deploy-test-'));
  DIST = path.join(work, 'dist');
  const env = { ...offlineEnv(), S3AL_DIST_DIR: DIST };
  const existingDir = path.join(work, 'existing');
  const createDir = path.join(work, 'create');
  let t0 = performance.now();
  const [cmd, args] = offline('npm', ['run', 'package', '--', '--package', existingDir, ...paramArgs(EXISTING_PARAMS)]);
  await run(cmd, args, { cwd: ROOT, env, maxBuffer: 16 << 20 }).catch((err) => {
    throw new Error(`npm run package failed:\n${err.stdout}\n${err.stderr}`);
  });
  timings['npm run package (build + sls package)'] = performance.now() - t0;
  existingText = readFileSync(path.join(existingDir, 'cloudformation-template-update-stack.json'), 'utf8');
  existing = JSON.parse(existingText);
  existingState = JSON.parse(readFileSync(path.join(existingDir, 'serverless-state.json'), 'utf8'));

  t0 = performance.now();
  const [cmd2, args2] = offline(path.join(ROOT, 'node_modules/.bin/sls'), [
    'package',
    '--package',
    createDir,
    ...paramArgs(CREATE_PARAMS),
  ]);
  await run(cmd2, args2, { cwd: ROOT, env, maxBuffer: 16 << 20 }).catch((err) => {
    throw new Error(`sls package (bucketMode=create) failed:\n${err.stdout}\n${err.stderr}`);
  });
  timings['sls package (bucketMode=create)'] = performance.now() - t0;
  create = JSON.parse(readFileSync(path.join(createDir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  const lines = Object.entries(timings).map(([k, ms]) => `  ${k}: ${(ms / 1000).toFixed(1)} s`);
  console.log(
    `package timings (network ${canDropNetwork ? 'removed with unshare -rn' : 'not removed: no unshare'}):\n${lines.join('\n')}`,
  );
});

// ------------------------------------------------------------------------------- rendering

/** Evaluates the template's Conditions (literal Fn::Equals / Fn::Not / Fn::And / Fn::Or). */
function conditions(t: Template): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const evalc = (c: Json): boolean => {
    if (c.Condition) return evalc(t.Conditions[c.Condition]);
    if (c['Fn::Equals']) {
      const [a, b] = c['Fn::Equals'];
      if (typeof a !== 'string' || typeof b !== 'string') throw new Error(`non-literal condition ${JSON.stringify(c)}`);
      return a === b;
    }
    if (c['Fn::Not']) return !evalc(c['Fn::Not'][0]);
    if (c['Fn::And']) return c['Fn::And'].every(evalc);
    if (c['Fn::Or']) return c['Fn::Or'].some(evalc);
    throw new Error(`unsupported condition ${JSON.stringify(c)}`);
  };
  for (const [name, c] of Object.entries(t.Conditions ?? {})) out[name] = evalc(c);
  return out;
}

const NO_VALUE = Symbol('AWS::NoValue');

/**
 * A stack as CloudFormation would see it: only resources whose Condition holds, with Fn::If
 * resolved, AWS::NoValue removed and Ref / Fn::GetAtt / Fn::Sub rendered to the strings they
 * would become in account 123456789012, us-east-1.
 */
class Stack {
  readonly cond: Record<string, boolean>;
  constructor(readonly t: Template) {
    this.cond = conditions(t);
  }
  active(id: string): boolean {
    const r = this.t.Resources[id];
    return !!r && (!r.Condition || this.cond[r.Condition] === true);
  }
  activeIds(): string[] {
    return Object.keys(this.t.Resources).filter((id) => this.active(id));
  }
  resource(id: string): Json {
    expect(this.active(id), `${id} is in the stack`).toBe(true);
    return this.render(this.t.Resources[id]);
  }
  ofType(type: string): string[] {
    return this.activeIds().filter((id) => this.t.Resources[id].Type === type);
  }
  ref(id: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
      'AWS::Partition': 'aws',
    };
    if (pseudo[id]) return pseudo[id]!;
    const r = this.t.Resources[id];
    if (!r) throw new Error(`Ref to unknown ${id}`);
    expect(this.active(id), `Ref ${id} points at a resource in the stack`).toBe(true);
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${p.QueueName}`;
      case 'AWS::Lambda::Function':
        return p.FunctionName;
      case 'AWS::S3::Bucket':
        return p.BucketName ?? `${id.toLowerCase()}-generated`;
      case 'AWS::IAM::Role':
        return id;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${REGION}:${ACCOUNT}:${p.TopicName}`;
      default:
        return `ref:${id}`;
    }
  }
  getAtt(id: string, attr: string): string {
    const r = this.t.Resources[id];
    if (!r) throw new Error(`GetAtt of unknown ${id}`);
    expect(this.active(id), `GetAtt ${id} points at a resource in the stack`).toBe(true);
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::SQS::Queue' && attr === 'Arn') return `arn:aws:sqs:${REGION}:${ACCOUNT}:${p.QueueName}`;
    if (r.Type === 'AWS::SQS::Queue' && attr === 'QueueName') return p.QueueName;
    if (r.Type === 'AWS::Lambda::Function' && attr === 'Arn')
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${p.FunctionName}`;
    if (r.Type === 'AWS::IAM::Role' && attr === 'Arn') return `arn:aws:iam::${ACCOUNT}:role/${id}`;
    if (r.Type === 'AWS::S3::Bucket' && attr === 'Arn') return `arn:aws:s3:::${this.ref(id)}`;
    throw new Error(`GetAtt ${id}.${attr} not modelled`);
  }
  render(v: Json): Json {
    if (Array.isArray(v)) return v.map((x) => this.render(x)).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const a = v[k];
      if (k === 'Ref') return a === 'AWS::NoValue' ? NO_VALUE : this.ref(a);
      if (k === 'Fn::GetAtt') return this.getAtt(a[0], a[1]);
      if (k === 'Fn::If') {
        if (!(a[0] in this.cond)) throw new Error(`Fn::If on unknown condition ${a[0]}`);
        return this.render(this.cond[a[0]] ? a[1] : a[2]);
      }
      if (k === 'Fn::Sub') {
        const s: string = typeof a === 'string' ? a : a[0];
        return s.replace(/\$\{([^}]+)\}/g, (_, name: string) =>
          name.includes('.') ? this.getAtt(name.split('.')[0]!, name.split('.')[1]!) : this.ref(name),
        );
      }
      if (k === 'Fn::Join') return (this.render(a[1]) as string[]).join(a[0]);
    }
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = this.render(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }
}

const arr = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

interface ExpectedStatement {
  actions: string[];
  resources: string[];
  condition?: Json;
}

/** Every statement of the role, keyed by Sid, with sorted actions and resources. */
function roleStatements(stack: Stack, roleId: string): Record<string, ExpectedStatement> {
  const role = stack.resource(roleId);
  expect(role.Properties.ManagedPolicyArns ?? [], `${roleId} has no managed policies`).toEqual([]);
  expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
    { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ]);
  const out: Record<string, ExpectedStatement> = {};
  for (const policy of role.Properties.Policies) {
    for (const s of policy.PolicyDocument.Statement) {
      expect(s.Effect).toBe('Allow');
      expect(s.Sid, 'every statement has a Sid').toBeTruthy();
      expect(out[s.Sid], `duplicate Sid ${s.Sid}`).toBeUndefined();
      expect(s.NotAction ?? s.NotResource, 'no NotAction / NotResource').toBeUndefined();
      const st: ExpectedStatement = {
        actions: arr<string>(s.Action).sort(),
        resources: arr<string>(s.Resource).sort(),
      };
      if (s.Condition) st.condition = s.Condition;
      for (const a of st.actions) expect(a, `${roleId}/${s.Sid}: wildcard action`).not.toContain('*');
      for (const r of st.resources) {
        expect(r, `${roleId}/${s.Sid}: resource`).not.toBe('*');
        expect(r).toMatch(/^arn:aws:/);
        expect(r, `${roleId}/${s.Sid}: unrendered or placeholder resource`).not.toMatch(/\$\{|ref:/);
      }
      out[s.Sid] = st;
    }
  }
  return out;
}

const logs = (fn: string): ExpectedStatement => ({
  actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  resources: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/s3-access-logs-dev-${fn}:*`],
});
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const INGEST_QUEUE = queueArn('s3-access-logs-dev-ingest');
const DLQ = queueArn('s3-access-logs-dev-ingest-dlq');
const BACKFILL_FN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:s3-access-logs-dev-backfill`;
// The stack names the staging bucket (no BucketName): Stack.ref renders it as `<id>-generated`.
const STAGING_BUCKET = 'stagingbucket-generated';
const STAGING_BUCKET_ARN = `arn:aws:s3:::${STAGING_BUCKET}`;

/** The staging bucket in both methods (the notification comes with the handshake's third parameter). */
const STAGING_BUCKET_PROPERTIES: Json = {
  BucketEncryption: {
    ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
  },
  PublicAccessBlockConfiguration: {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  },
  OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
  LifecycleConfiguration: {
    Rules: [
      {
        Id: 'expire-staged-files',
        Status: 'Enabled',
        Prefix: 'pipe/',
        ExpirationInDays: 14,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ],
  },
};
const STAGING_BUCKET_POLICY: Json = {
  Bucket: STAGING_BUCKET,
  PolicyDocument: {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [STAGING_BUCKET_ARN, `${STAGING_BUCKET_ARN}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  },
};
/** What Snowflake documents for loading from an S3 stage, scoped to the staging prefix. */
const SNOWFLAKE_ROLE_POLICIES: Json = {
  Description: 'Assumed by the Snowflake storage integration to read files staged for Snowpipe.',
  Policies: [
    {
      PolicyName: 'read-staged-files',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ReadStagedFiles',
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:GetObjectVersion'],
            Resource: `${STAGING_BUCKET_ARN}/pipe/*`,
          },
          {
            Sid: 'ListStagedFiles',
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: STAGING_BUCKET_ARN,
            Condition: { StringLike: { 's3:prefix': ['pipe/*'] } },
          },
          { Sid: 'LocateStagingBucket', Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: STAGING_BUCKET_ARN },
        ],
      },
    },
  ],
};

// ------------------------------------------------------------------------------- tests

describe('sls package, bucketMode=existing (default)', () => {
  let s: Stack;
  beforeAll(() => {
    s = new Stack(existing);
  });

  it('contains exactly the expected resources', () => {
    expect(s.activeIds().sort()).toEqual(
      [
        'ServerlessDeploymentBucket',
        'ServerlessDeploymentBucketPolicy',
        'IngestLogGroup',
        'BackfillLogGroup',
        'BucketNotificationLogGroup',
        'IngestLambdaFunction',
        'BackfillLambdaFunction',
        'BucketNotificationLambdaFunction',
        'IngestEventSourceMappingSQSIngestQueue',
        'IngestQueue',
        'IngestDeadLetterQueue',
        'IngestQueuePolicy',
        'IngestDeadLetterQueuePolicy',
        'LogBucketNotification',
        'IngestRole',
        'BackfillRole',
        'BucketNotificationRole',
        'StagingBucket',
        'StagingBucketPolicy',
        'SnowflakeStagingRole',
        'AlarmTopic',
        'DeadLetterQueueNotEmptyAlarm',
        'IngestQueueOldestMessageAlarm',
        'IngestErrorsAlarm',
        'BackfillErrorsAlarm',
        'NoObjectsLoadedAlarm',
      ].sort(),
    );
    // osls's shared default role would give every function every permission.
    expect(s.ofType('AWS::IAM::Role').sort()).toEqual([
      'BackfillRole',
      'BucketNotificationRole',
      'IngestRole',
      'SnowflakeStagingRole',
    ]);
    expect(s.ofType('AWS::IAM::Policy')).toEqual([]);
    expect(s.ofType('AWS::IAM::ManagedPolicy')).toEqual([]);
  });

  it('ingest queue: SSE, visibility timeout >= 6x function timeout + batching window, redrive to the DLQ after 5 receives', () => {
    const q = s.resource('IngestQueue').Properties;
    const fn = s.resource('IngestLambdaFunction').Properties;
    expect(q.SqsManagedSseEnabled).toBe(true);
    // Even with the largest batching window a user may choose (300 s).
    expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Timeout + 300);
    // Longer than the ingest sessions' Snowflake lock timeout, so a lock wait cannot time the batch out.
    const lockTimeout = Number(/LOCK_TIMEOUT\s*=\s*(\d+)/.exec(SESSION_SETUP.join(';'))?.[1]);
    expect(lockTimeout).toBeGreaterThan(0);
    expect(fn.Timeout).toBeGreaterThan(lockTimeout + 60);
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: DLQ, maxReceiveCount: 5 });
    const dlq = s.resource('IngestDeadLetterQueue').Properties;
    // The numbers come from shared/ingest-settings.json, the file the local stack reads too.
    expect({
      functionTimeoutSeconds: fn.Timeout,
      queue: {
        visibilityTimeoutSeconds: q.VisibilityTimeout,
        maxReceiveCount: q.RedrivePolicy.maxReceiveCount,
        messageRetentionSeconds: q.MessageRetentionPeriod,
        deadLetterRetentionSeconds: dlq.MessageRetentionPeriod,
      },
    }).toEqual({ functionTimeoutSeconds: INGEST_SETTINGS.functionTimeoutSeconds, queue: INGEST_SETTINGS.queue });
    expect(dlq.SqsManagedSseEnabled).toBe(true);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.MessageRetentionPeriod).toBeGreaterThan(q.MessageRetentionPeriod);
    expect(dlq.RedriveAllowPolicy).toEqual({ redrivePermission: 'byQueue', sourceQueueArns: [INGEST_QUEUE] });
  });

  it('queue policy: only S3, only from the log bucket in this account; no plain-HTTP access to either queue', () => {
    const p = s.resource('IngestQueuePolicy').Properties;
    expect(p.Queues).toEqual([`https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/s3-access-logs-dev-ingest`]);
    expect(p.PolicyDocument.Statement).toEqual([
      {
        Sid: 'S3LogBucketNotifications',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: INGEST_QUEUE,
        Condition: {
          ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::acme-access-logs' },
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
        },
      },
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:*',
        Resource: INGEST_QUEUE,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
    const d = s.resource('IngestDeadLetterQueuePolicy').Properties.PolicyDocument.Statement;
    expect(d).toEqual([
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:*',
        Resource: DLQ,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  it('event source mapping: ReportBatchItemFailures, batch size, batching window, maximum concurrency (defaults)', () => {
    const esm = s.resource('IngestEventSourceMappingSQSIngestQueue').Properties;
    expect(esm).toEqual({
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 5,
      EventSourceArn: INGEST_QUEUE,
      FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:s3-access-logs-dev-ingest`,
      Enabled: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    // The defaults come from shared/ingest-settings.json, the file the local stack reads too.
    const { eventSource } = INGEST_SETTINGS;
    expect([esm.BatchSize, esm.MaximumBatchingWindowInSeconds, esm.ScalingConfig.MaximumConcurrency]).toEqual([
      eventSource.batchSize,
      eventSource.batchingWindowSeconds,
      eventSource.maximumConcurrency,
    ]);
  });

  it('serverless.yml writes none of the shared ingest settings itself: it reads them from shared/ingest-settings.json', () => {
    const yml = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');
    for (const [property, key] of [
      ['batchSize', 'eventSource.batchSize'],
      ['batchingWindow', 'eventSource.batchingWindowSeconds'],
      ['maxConcurrency', 'eventSource.maximumConcurrency'],
    ])
      expect(yml).toContain(`${property}: \${file(./shared/ingest-settings.json):${key}}`);
    expect(yml).toContain(`ingest: \${file(./shared/ingest-settings.json)}`);
    for (const property of ['VisibilityTimeout', 'MessageRetentionPeriod', 'maxReceiveCount'])
      expect(yml, property).not.toMatch(new RegExp(`^\\s*${property}:\\s*\\d`, 'm'));
  });

  it('functions: nodejs22.x or newer on arm64, own role, own artifact, own log group with retention', () => {
    const names = { Ingest: 'ingest', Backfill: 'backfill', BucketNotification: 'bucketNotification' };
    for (const [prefix, name] of Object.entries(names)) {
      const fn = s.resource(`${prefix}LambdaFunction`).Properties;
      expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
      expect(fn.Architectures).toEqual(['arm64']);
      expect(fn.Handler).toBe('index.handler');
      expect(fn.FunctionName).toBe(`s3-access-logs-dev-${name}`);
      expect(fn.Role).toBe(`arn:aws:iam::${ACCOUNT}:role/${prefix}Role`);
      const zip = name === 'bucketNotification' ? 'bucket-notification.zip' : `${name}.zip`;
      expect(fn.Code.S3Key).toMatch(new RegExp(`/${zip.replace('.', '\\.')}$`));
      expect(fn.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(s.resource(`${prefix}LogGroup`).Properties).toEqual({
        LogGroupName: `/aws/lambda/s3-access-logs-dev-${name}`,
        RetentionInDays: 30,
      });
    }
    const state = existingState;
    for (const [name, zip] of [
      ['ingest', 'ingest'],
      ['backfill', 'backfill'],
      ['bucketNotification', 'bucket-notification'],
    ] as const) {
      expect(path.resolve(ROOT, state.service.functions[name].package.artifact)).toBe(path.join(DIST, `${zip}.zip`));
    }
  });

  it("function environments pass the functions' own configuration validation", () => {
    const ingestEnv = s.resource('IngestLambdaFunction').Properties.Environment.Variables;
    // pipe (the default): staging location, and no Snowflake secret at all.
    expect(ingestEnv).toMatchObject({
      LOAD_METHOD: 'pipe',
      STAGING_BUCKET: STAGING_BUCKET,
      STAGING_PREFIX: 'pipe/',
      LOAD_MODE: 'parsed',
    });
    expect(ingestEnv.SNOWFLAKE_SECRET_ARN).toBeUndefined();
    const ingest = loadIngestConfig(ingestEnv);
    expect(ingest.logBuckets).toEqual(['acme-access-logs']);
    expect(ingest.logPrefixes).toEqual(['logs/']);
    expect(ingest.loadMode).toBe('parsed');
    expect(ingest.loadMethod).toBe('pipe');
    expect(ingest.staging).toEqual({ bucket: STAGING_BUCKET, prefix: 'pipe/' });
    expect(ingest.snowflake).toBeUndefined();
    const backfill = loadBackfillConfig({
      ...s.resource('BackfillLambdaFunction').Properties.Environment.Variables,
      AWS_REGION: REGION,
    });
    expect(backfill.logBucket).toBe('acme-access-logs');
    expect(backfill.logPrefix).toBe('logs/');
    expect(backfill.queueUrl).toBe(`https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/s3-access-logs-dev-ingest`);
    expect(backfill.dlqUrl).toBe(`https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/s3-access-logs-dev-ingest-dlq`);
    // The custom resource needs no configuration, and no secret.
    expect(Object.keys(s.resource('BucketNotificationLambdaFunction').Properties.Environment.Variables).sort()).toEqual(
      ['LOG_LEVEL', 'NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE'],
    );
  });

  it('IAM (pipe): ingest reads log objects under the prefix, writes and HEADs staged files under pipe/ only, no Snowflake secret', () => {
    expect(roleStatements(s, 'IngestRole')).toEqual({
      Logs: logs('ingest'),
      ConsumeIngestQueue: {
        actions: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        resources: [INGEST_QUEUE],
      },
      ReadLogObjects: { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::acme-access-logs/logs/*'] },
      // So that a deleted object is NoSuchKey (skipped), not AccessDenied (retried into the DLQ).
      TellMissingLogObjects: { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::acme-access-logs'] },
      // PUT (multipart included: CreateMultipartUpload/UploadPart/Complete are s3:PutObject), abort a
      // failed multipart upload, HEAD/GET a manifest; only under the staging prefix.
      StageFiles: {
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        resources: [`${STAGING_BUCKET_ARN}/pipe/*`],
      },
      // So that HEAD of a manifest not yet written is 404 (stage the object), not 403.
      TellMissingManifests: { actions: ['s3:ListBucket'], resources: [STAGING_BUCKET_ARN] },
    });
  });

  it('pipe staging bucket: SSE-S3, Block Public Access, TLS only, staged files expire after 14 days; no notification before the handshake', () => {
    const b = s.resource('StagingBucket');
    expect(b.DeletionPolicy).toBe('Retain');
    expect(b.Properties).toEqual(STAGING_BUCKET_PROPERTIES);
    expect(s.resource('StagingBucketPolicy').Properties).toEqual(STAGING_BUCKET_POLICY);
  });

  it('pipe: the role Snowflake assumes reads only the staging prefix, and before the handshake trusts only this account (external ID 0000)', () => {
    expect(s.resource('SnowflakeStagingRole').Properties).toEqual({
      ...SNOWFLAKE_ROLE_POLICIES,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'HandshakePending',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': '0000' } },
          },
        ],
      },
    });
  });

  it('outputs: what the handshake needs (role ARN, stage URL), and the load method', () => {
    const out = Object.fromEntries(Object.entries(existing.Outputs).map(([k, v]) => [k, s.render(v).Value]));
    expect(out).toMatchObject({
      LoadMethod: 'pipe',
      StagingBucketName: STAGING_BUCKET,
      StagingUrl: `s3://${STAGING_BUCKET}/pipe/`,
      SnowflakeStagingRoleArn: `arn:aws:iam::${ACCOUNT}:role/SnowflakeStagingRole`,
    });
  });

  it('IAM: backfill lists under the prefix, sends to the ingest queue, drains the DLQ, reads the secret, invokes only itself', () => {
    expect(roleStatements(s, 'BackfillRole')).toEqual({
      Logs: logs('backfill'),
      ListLogObjects: {
        actions: ['s3:ListBucket'],
        resources: ['arn:aws:s3:::acme-access-logs'],
        condition: { StringLike: { 's3:prefix': ['logs/*'] } },
      },
      ReplayOntoIngestQueue: { actions: ['sqs:SendMessage'], resources: [INGEST_QUEUE] },
      RedriveDeadLetters: {
        actions: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        resources: [DLQ],
      },
      ReadSnowflakeSecret: { actions: ['secretsmanager:GetSecretValue'], resources: [SECRET] },
      ContinueItself: { actions: ['lambda:InvokeFunction'], resources: [BACKFILL_FN, `${BACKFILL_FN}:*`] },
    });
    // Only backfill may send to the ingest queue (besides S3, through the queue policy).
    for (const role of ['IngestRole', 'BucketNotificationRole']) {
      for (const st of Object.values(roleStatements(s, role))) expect(st.actions).not.toContain('sqs:SendMessage');
    }
  });

  it("IAM: the custom resource may only read and write the log bucket's notification configuration", () => {
    expect(roleStatements(s, 'BucketNotificationRole')).toEqual({
      Logs: logs('bucketNotification'),
      MergeBucketNotification: {
        actions: ['s3:GetBucketNotification', 's3:PutBucketNotification'],
        resources: ['arn:aws:s3:::acme-access-logs'],
      },
    });
  });

  it('the custom resource merges ObjectCreated -> ingest queue under the prefix, after the queue policy exists', () => {
    const r = s.resource('LogBucketNotification');
    expect(r.Type).toBe('Custom::BucketNotification');
    expect(arr(r.DependsOn)).toEqual(['IngestQueuePolicy']);
    expect(r.Properties).toEqual({
      ServiceToken: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:s3-access-logs-dev-bucketNotification`,
      // CloudFormation gives up after 5 minutes without an answer, not the default hour; the
      // function (with its deadline guard) answers well within that.
      ServiceTimeout: 300,
      BucketName: 'acme-access-logs',
      QueueArn: INGEST_QUEUE,
      Prefix: 'logs/',
      ConfigurationId: 's3-access-logs-dev-ingest',
    });
    expect(s.active('LogBucket')).toBe(false);
    expect(s.active('LogBucketPolicy')).toBe(false);
  });

  it('alarms: DLQ not empty, oldest message age, function errors; all notify the e-mail topic', () => {
    expect(s.resource('AlarmTopic').Properties.Subscription).toEqual([
      { Protocol: 'email', Endpoint: 'ops@example.com' },
    ]);
    const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:s3-access-logs-dev-alarms`;
    const alarm = (id: string) => s.resource(id).Properties;
    expect(alarm('DeadLetterQueueNotEmptyAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: 's3-access-logs-dev-ingest-dlq' }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm('IngestQueueOldestMessageAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: 's3-access-logs-dev-ingest' }],
      Threshold: 3600,
    });
    for (const [id, fn] of [
      ['IngestErrorsAlarm', 'ingest'],
      ['BackfillErrorsAlarm', 'backfill'],
    ] as const) {
      expect(alarm(id)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: `s3-access-logs-dev-${fn}` }],
        Statistic: 'Sum',
        Threshold: 0,
      });
    }
    for (const id of s.ofType('AWS::CloudWatch::Alarm')) {
      expect(alarm(id).AlarmActions, id).toEqual([topic]);
      expect(alarm(id).TreatMissingData, id).toBe(id === 'NoObjectsLoadedAlarm' ? 'breaching' : 'notBreaching');
    }
    expect(s.resource('LogBucketNotification').Properties.ServiceTimeout).toBeGreaterThan(
      s.resource('BucketNotificationLambdaFunction').Properties.Timeout,
    );
  });

  it("alarm: no object loaded for noLoadAlarmHours (default 6) hours, missing data breaching, on this stage's ingest metrics", () => {
    const p = s.resource('NoObjectsLoadedAlarm').Properties;
    const env = s.resource('IngestLambdaFunction').Properties.Environment.Variables;
    expect(p).toMatchObject({
      Namespace: env.POWERTOOLS_METRICS_NAMESPACE,
      MetricName: 'ObjectsLoaded',
      // Powertools adds the service name as the `service` dimension of every metric.
      Dimensions: [{ Name: 'service', Value: env.POWERTOOLS_SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 6,
      DatapointsToAlarm: 6,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(env.POWERTOOLS_SERVICE_NAME).toBe('s3-access-logs-dev-ingest');
    expect(p.AlarmDescription).toContain('s3-access-logs-dev-ingest');
  });

  it('needs no account-specific value at package time: account, region and partition stay pseudo-parameters', () => {
    const text = existingText;
    // Everything we build an ARN for uses ${AWS::Partition}/${AWS::Region}/${AWS::AccountId}.
    expect(text).not.toMatch(/arn:aws:(sqs|lambda|logs|s3|sns|iam):/);
    expect(text).not.toMatch(/\$\{(aws|param|self|opt|env|sls):/); // no unresolved osls variable
  });
});

describe('sls package, an unknown loadMethod', () => {
  it('fails naming the parameter, instead of deploying a stack that loads nowhere', async () => {
    const dir = path.join(work, 'bad-load-method');
    const [cmd, args] = offline(path.join(ROOT, 'node_modules/.bin/sls'), [
      'package',
      '--package',
      dir,
      ...paramArgs({ ...EXISTING_PARAMS, loadMethod: 'snowpipe' }),
    ]);
    const err = await run(cmd, args, {
      cwd: ROOT,
      env: { ...offlineEnv(), S3AL_DIST_DIR: DIST },
      maxBuffer: 16 << 20,
    }).then(
      () => undefined,
      (e: { stdout: string; stderr: string }) => e,
    );
    expect(err, 'sls package must fail').toBeDefined();
    expect(`${err!.stdout}${err!.stderr}`).toContain('Cannot resolve variable at "custom.loadMethod"');
    expect(existsSync(path.join(dir, 'cloudformation-template-update-stack.json'))).toBe(false);
  }, 120_000);
});

describe('sls package, bucketMode=create', () => {
  let s: Stack;
  beforeAll(() => {
    s = new Stack(create);
  });

  it('creates the logging bucket (SSE-S3, Block Public Access, retained), with no notification of its own', () => {
    expect(s.active('AlarmTopic')).toBe(false);
    const b = s.resource('LogBucket');
    expect(b.DeletionPolicy).toBe('Retain');
    expect(b.UpdateReplacePolicy).toBe('Retain');
    // A NotificationConfiguration here would stay on the retained bucket after `sls remove`,
    // pointing at the deleted queue (and blocking later notification changes on the bucket).
    expect(b.Properties).toEqual({
      BucketName: 'acme-new-access-logs',
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('the custom resource adds the notification to the created bucket, so `sls remove` takes it off the retained bucket', () => {
    for (const id of [
      'LogBucketNotification',
      'BucketNotificationLambdaFunction',
      'BucketNotificationLogGroup',
      'BucketNotificationRole',
    ]) {
      expect(s.active(id), id).toBe(true);
    }
    const r = s.resource('LogBucketNotification');
    expect(arr(r.DependsOn)).toEqual(['IngestQueuePolicy']);
    // Ref to the bucket: created first, and the entry is removed before the bucket is (not) deleted.
    expect(create.Resources.LogBucketNotification.Properties.BucketName).toEqual({
      'Fn::If': ['CreateBucket', { Ref: 'LogBucket' }, 'acme-new-access-logs'],
    });
    expect(r.Properties).toMatchObject({
      BucketName: 'acme-new-access-logs',
      QueueArn: queueArn('s3-access-logs-dev-ingest'),
      // No logPrefix: every object is a log object, no key filter.
      Prefix: '',
      ConfigurationId: 's3-access-logs-dev-ingest',
      ServiceTimeout: 300,
    });
    expect(roleStatements(s, 'BucketNotificationRole').MergeBucketNotification).toEqual({
      actions: ['s3:GetBucketNotification', 's3:PutBucketNotification'],
      resources: ['arn:aws:s3:::acme-new-access-logs'],
    });
  });

  it('bucket policy: only the S3 logging service of this account may write; kept with the bucket when the stack is removed', () => {
    expect(s.resource('LogBucketPolicy').DeletionPolicy).toBe('Retain');
    expect(s.resource('LogBucketPolicy').UpdateReplacePolicy).toBe('Retain');
    expect(s.resource('LogBucketPolicy').Properties).toEqual({
      Bucket: 'acme-new-access-logs',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'S3ServerAccessLogsPolicy',
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: 'arn:aws:s3:::acme-new-access-logs/*',
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          },
        ],
      },
    });
  });

  it('parameters reach the event source mapping, log retention and environment', () => {
    expect(s.resource('IngestEventSourceMappingSQSIngestQueue').Properties).toMatchObject({
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 20,
      ScalingConfig: { MaximumConcurrency: 3 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(s.resource('IngestLogGroup').Properties.RetentionInDays).toBe(90);
    const q = s.resource('IngestQueue').Properties;
    expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(6 * s.resource('IngestLambdaFunction').Properties.Timeout + 20);
    expect(loadIngestConfig(s.resource('IngestLambdaFunction').Properties.Environment.Variables).loadMode).toBe('raw');
    expect(s.resource('IngestQueuePolicy').Properties.PolicyDocument.Statement[0].Condition.ArnLike).toEqual({
      'aws:SourceArn': 'arn:aws:s3:::acme-new-access-logs',
    });
  });

  it('IAM (insert): ingest reads the secret (and its customer-managed key), has no access to the staging bucket; no prefix = whole bucket', () => {
    expect(roleStatements(s, 'IngestRole')).toEqual({
      Logs: logs('ingest'),
      ConsumeIngestQueue: {
        actions: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        resources: [INGEST_QUEUE],
      },
      ReadLogObjects: { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::acme-new-access-logs/*'] },
      TellMissingLogObjects: { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::acme-new-access-logs'] },
      ReadSnowflakeSecret: { actions: ['secretsmanager:GetSecretValue'], resources: [SECRET] },
      DecryptSnowflakeSecret: { actions: ['kms:Decrypt'], resources: [KMS_KEY] },
    });
    const env = s.resource('IngestLambdaFunction').Properties.Environment.Variables;
    expect(env).toMatchObject({ LOAD_METHOD: 'insert', SNOWFLAKE_SECRET_ARN: SECRET });
    expect(loadIngestConfig(env).loadMethod).toBe('insert');
    const backfill = roleStatements(s, 'BackfillRole');
    expect(backfill.ListLogObjects).toEqual({
      actions: ['s3:ListBucket'],
      resources: ['arn:aws:s3:::acme-new-access-logs'],
    });
    expect(backfill.DecryptSnowflakeSecret).toEqual({ actions: ['kms:Decrypt'], resources: [KMS_KEY] });
    expect(Object.keys(backfill).sort()).toEqual([
      'ContinueItself',
      'DecryptSnowflakeSecret',
      'ListLogObjects',
      'Logs',
      'ReadSnowflakeSecret',
      'RedriveDeadLetters',
      'ReplayOntoIngestQueue',
    ]);
  });

  it("after the handshake: the role trusts only Snowflake's IAM user with the external ID; staged files are announced to the pipes' queue", () => {
    expect(s.resource('SnowflakeStagingRole').Properties).toEqual({
      ...SNOWFLAKE_ROLE_POLICIES,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'SnowflakeStorageIntegration',
            Effect: 'Allow',
            Principal: { AWS: SNOWFLAKE_IAM_USER },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': SNOWFLAKE_EXTERNAL_ID } },
          },
        ],
      },
    });
    expect(s.resource('StagingBucket').Properties).toEqual({
      ...STAGING_BUCKET_PROPERTIES,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Event: 's3:ObjectCreated:*',
            Queue: SNOWPIPE_QUEUE,
            Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'pipe/' }] } },
          },
        ],
      },
    });
    expect(s.resource('StagingBucketPolicy').Properties).toEqual(STAGING_BUCKET_POLICY);
  });

  it('alarms exist without an e-mail address, with no actions', () => {
    for (const id of [
      'DeadLetterQueueNotEmptyAlarm',
      'IngestQueueOldestMessageAlarm',
      'IngestErrorsAlarm',
      'BackfillErrorsAlarm',
      'NoObjectsLoadedAlarm',
    ]) {
      const p = s.resource(id).Properties;
      expect(p.AlarmActions, id).toBeUndefined();
      expect(p.OKActions, id).toBeUndefined();
    }
    const noLoad = s.resource('NoObjectsLoadedAlarm').Properties;
    expect([Number(noLoad.EvaluationPeriods), Number(noLoad.DatapointsToAlarm)]).toEqual([12, 12]);
  });
});

// ------------------------------------------------------------------------------- bundles

/** Entries of a ZIP file, read from its central directory and inflated. */
function unzip(file: string): Map<string, Buffer> {
  const buf = readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(dataStart, dataStart + csize);
    out.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

const DEV_ONLY = /node_modules\/(@duckdb|duckdb|fauxqs|vitest|@vitest|osls|esbuild|tsx|typescript|fast-check|@types)\//;

describe('bundles', () => {
  it.each(FUNCTIONS)('%s: dist/<fn>/index.mjs exports handler, zipped with its source map, no dev-only code', (fn) => {
    const bundle = path.join(DIST, fn, 'index.mjs');
    expect(existsSync(bundle)).toBe(true);
    const meta = JSON.parse(readFileSync(path.join(DIST, fn, 'meta.json'), 'utf8'));
    const inputs = Object.keys(meta.inputs);
    expect(
      inputs.filter((i) => DEV_ONLY.test(i)),
      'dev-only packages in the bundle',
    ).toEqual([]);
    expect(
      inputs.filter((i) => /^(local|test|bench|cli|packages)\//.test(i)),
      'local stack, tests or CLI in the bundle',
    ).toEqual([]);
    const output = Object.entries(meta.outputs).find(([k]) => k.endsWith('index.mjs'))![1] as Json;
    expect(output.exports).toContain('handler');
    const code = readFileSync(bundle, 'utf8');
    // (The AWS SDK's bundled package.json mentions "vitest" in its scripts, so look for imports.)
    expect(code).not.toMatch(/@duckdb|fauxqs/);
    expect(code).not.toMatch(/(from|import|require\()\s*["'](vitest|osls|esbuild|tsx)(\/[^"']*)?["']/);

    const entries = unzip(path.join(DIST, `${fn}.zip`));
    expect([...entries.keys()].sort()).toEqual(['index.mjs', 'index.mjs.map']);
    expect(entries.get('index.mjs')!.equals(readFileSync(bundle))).toBe(true);
  });

  it('each bundle loads in plain Node (no TypeScript loader, no node_modules) and exports a handler function', async () => {
    // Run from an empty directory so that nothing can resolve from the project's node_modules.
    const cwd = mkdtempSync(path.join(os.tmpdir(), 's3al-bundle-load-'));
    try {
      for (const fn of FUNCTIONS) {
        const file = path.join(cwd, `${fn}.mjs`);
        writeFileSync(file, readFileSync(path.join(DIST, fn, 'index.mjs')));
        const { stdout } = await run(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler);`,
          ],
          {
            cwd,
            env: { PATH: process.env.PATH ?? '' },
          },
        );
        expect(stdout.trim(), fn).toBe('function');
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("the bundled custom resource keeps a bucket's other notifications through create and delete, speaking S3's XML", async () => {
    // An HTTP endpoint answering the two S3 calls the custom resource makes, holding the bucket's
    // notification configuration as S3 returns it, plus CloudFormation's response URL.
    const original =
      '<?xml version="1.0" encoding="UTF-8"?><NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<TopicConfiguration><Id>audit</Id><Topic>arn:aws:sns:us-east-1:1:audit</Topic><Event>s3:ObjectCreated:*</Event>' +
      '<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>exports/</Value></FilterRule></S3Key></Filter></TopicConfiguration>' +
      '<CloudFunctionConfiguration><Id>thumbs</Id><CloudFunction>arn:aws:lambda:us-east-1:1:function:thumbs</CloudFunction>' +
      '<Event>s3:ObjectRemoved:*</Event></CloudFunctionConfiguration>' +
      '<EventBridgeConfiguration></EventBridgeConfiguration></NotificationConfiguration>';
    let stored = original;
    const puts: string[] = [];
    const skipValidation: Array<string | undefined> = [];
    const responses: Json[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url?.startsWith('/acme-access-logs/?notification')) {
          if (req.method === 'PUT') {
            puts.push(body);
            skipValidation.push(req.headers['x-amz-skip-destination-validation'] as string | undefined);
            stored = body;
          } else res.setHeader('content-type', 'application/xml');
          res.end(req.method === 'GET' ? stored : '');
        } else if (req.url?.startsWith('/cfn-response')) {
          responses.push(JSON.parse(body));
          res.end();
        } else {
          res.statusCode = 404;
          res.end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const props = {
      ServiceToken: 'x',
      BucketName: 'acme-access-logs',
      QueueArn: INGEST_QUEUE,
      Prefix: 'logs/',
      ConfigurationId: 's3-access-logs-dev-ingest',
    };
    const common = {
      ResponseURL: `${endpoint}/cfn-response?X-Amz-Signature=x`,
      StackId: 'stack',
      RequestId: 'req',
      LogicalResourceId: 'LogBucketNotification',
      ResourceType: 'Custom::BucketNotification',
      ServiceToken: 'x',
    };
    const events = [
      { ...common, RequestType: 'Create', ResourceProperties: props },
      {
        ...common,
        RequestType: 'Delete',
        PhysicalResourceId: 'acme-access-logs/s3-access-logs-dev-ingest',
        ResourceProperties: props,
      },
    ];
    const script = `const { handler } = await import(${JSON.stringify(path.join(DIST, 'bucket-notification/index.mjs'))});
      for (const e of JSON.parse(process.argv[1])) await handler(e);`;
    try {
      await run(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(events)], {
        cwd: os.tmpdir(),
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL_S3: endpoint,
        },
      });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(responses.map((r) => r.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(puts).toHaveLength(2);
    // S3 validates every destination on create (ours must work); removing ours validates nothing.
    expect(skipValidation).toEqual([undefined, 'true']);
    const [afterCreate, afterDelete] = puts as [string, string];
    expect(afterCreate).toContain(
      `<QueueConfiguration><Queue>${INGEST_QUEUE}</Queue><Event>s3:ObjectCreated:*</Event><Id>s3-access-logs-dev-ingest</Id>` +
        '<Filter><S3Key><FilterRule><Name>prefix</Name><Value>logs/</Value></FilterRule></S3Key></Filter></QueueConfiguration>',
    );
    for (const xml of [afterCreate, afterDelete]) {
      expect(xml).toContain('<Topic>arn:aws:sns:us-east-1:1:audit</Topic>');
      expect(xml).toContain('<Value>exports/</Value>');
      expect(xml).toContain('<CloudFunction>arn:aws:lambda:us-east-1:1:function:thumbs</CloudFunction>');
      expect(xml).toContain('<EventBridgeConfiguration/>');
    }
    expect(afterDelete).not.toContain('QueueConfiguration');
  });

  it('the bundled ingest handler, with the environment the template gives it, loads a log object exactly once', async () => {
    // The deployed artifact end to end: dist/ingest/index.mjs in a plain Node process (bundled
    // snowflake-sdk and AWS SDK, ESM banner, source map), fauxqs for S3, snowflake-local for
    // Snowflake. Only the secret is swapped for SNOWFLAKE_* variables (no Secrets Manager locally).
    configureSnowflakeSdk();
    const aws = await startAwsLocal();
    const sf = await startSnowflakeLocal({ port: 0 });
    const db = snowflake.createConnection({
      accessUrl: sf.url,
      account: 'local',
      username: 'local',
      password: 'local',
      database: 'S3_ACCESS_LOGS',
      schema: 'PUBLIC',
    });
    try {
      await db.connectAsync();
      await applySqlFiles(db, tableSqlFiles());
      // Generated lines, so the test needs nothing beside the checkout (the corpus suites cover real lines).
      const corpus = Buffer.from(generateText(64 * 1024));
      const key = 'logs/2026-11-26-10-00-00-0123456789ABCDEF';
      await aws.s3.send(new CreateBucketCommand({ Bucket: 'acme-access-logs' }));
      const put = await aws.s3.send(new PutObjectCommand({ Bucket: 'acme-access-logs', Key: key, Body: corpus }));
      const record = (messageId: string, k: string) => ({
        messageId,
        receiptHandle: `rh-${messageId}`,
        body: notificationBody([{ bucket: 'acme-access-logs', key: k, size: corpus.length, etag: put.ETag! }]),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'AIDAEXAMPLE',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: INGEST_QUEUE,
        awsRegion: REGION,
      });
      // The same object twice (a redelivery) and one that was deleted before it was read.
      const event = { Records: [record('m1', key), record('m2', key), record('m3', 'logs/deleted-meanwhile')] };

      const deployed = new Stack(existing).resource('IngestLambdaFunction').Properties.Environment.Variables as Record<
        string,
        string
      >;
      // The insert method (this test loads through Snowflake); the pipe path is the pipe e2e tests'.
      const { SNOWFLAKE_SECRET_ARN: _secret, ...deployedEnv } = deployed;
      const env = { ...deployedEnv, LOAD_METHOD: 'insert' };
      const script = `const { handler } = await import(${JSON.stringify(path.join(DIST, 'ingest/index.mjs'))});
        for (let i = 0; i < 2; i++) process.stdout.write(JSON.stringify(await handler(JSON.parse(process.argv[1]))) + '\\n');`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(event)], {
        cwd: os.tmpdir(),
        env: {
          ...env,
          PATH: process.env.PATH ?? '',
          LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
          AWS_LAMBDA_FUNCTION_NAME: 's3-access-logs-dev-ingest',
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_ENDPOINT_URL_S3: aws.endpoint,
          SNOWFLAKE_ACCOUNT: 'local',
          SNOWFLAKE_USERNAME: 'local',
          SNOWFLAKE_PASSWORD: 'local',
          SNOWFLAKE_DATABASE: 'S3_ACCESS_LOGS',
          SNOWFLAKE_SCHEMA: 'PUBLIC',
          SNOWFLAKE_ACCESS_URL: sf.url,
        },
        maxBuffer: 16 << 20,
      });
      const results = stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{"batchItemFailures"'))
        .map((l) => JSON.parse(l));
      // Invoked twice with the same batch: nothing fails, nothing loads twice.
      expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);

      const lines = corpus
        .toString('utf8')
        .split(/\r?\n/)
        .filter((l) => l.trim() !== '').length;
      const ledger = await execute<Record<string, unknown>>(
        db,
        'SELECT logkey, linecount, rowcount, rejectcount FROM s3_access_logs_loads',
      );
      expect(ledger).toHaveLength(1);
      const [entry] = ledger.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v])));
      expect(entry!.logkey).toBe(key);
      expect(Number(entry!.linecount)).toBe(lines);
      expect(Number(entry!.rowcount) + Number(entry!.rejectcount)).toBe(lines);
      expect(Number(entry!.rowcount)).toBeGreaterThan(0);
      const rows = await execute<Record<string, unknown>>(
        db,
        'SELECT COUNT(*) AS n FROM s3_access_logs WHERE logkey = ?',
        [key],
      );
      expect(Number(Object.values(rows[0]!)[0])).toBe(Number(entry!.rowcount));
    } finally {
      await new Promise<void>((r) => db.destroy(() => r()));
      await sf.stop();
      await aws.stop();
    }
  }, 120_000);

  it('a rebuild gives a byte-identical artifact, so `sls deploy` finds nothing changed and skips the update', async () => {
    const before = readFileSync(path.join(DIST, 'bucket-notification.zip'));
    await run(process.execPath, [path.join(ROOT, 'build.mjs'), 'bucket-notification'], {
      cwd: ROOT,
      env: { ...process.env, S3AL_DIST_DIR: DIST },
    });
    expect(readFileSync(path.join(DIST, 'bucket-notification.zip')).equals(before)).toBe(true);
  });

  it('reports bundle sizes; the ingest bundle stays under 5 MB', () => {
    const rows = FUNCTIONS.map((fn) => {
      const mb = (f: string) => statSync(path.join(DIST, f)).size / 1024 / 1024;
      return { fn, bundle: mb(`${fn}/index.mjs`), map: mb(`${fn}/index.mjs.map`), zip: mb(`${fn}.zip`) };
    });
    console.log(
      'bundle sizes (MB):\n' +
        rows
          .map(
            (r) =>
              `  ${r.fn.padEnd(20)} index.mjs ${r.bundle.toFixed(2)}  map ${r.map.toFixed(2)}  zip ${r.zip.toFixed(2)}`,
          )
          .join('\n'),
    );
    expect(rows.find((r) => r.fn === 'ingest')!.bundle).toBeLessThan(5);
  });
});
