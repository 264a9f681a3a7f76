/**
 * The classification of s3_access_logs_enriched (sql/08-*.sql), run by snowflake-local through the
 * real snowflake-sdk: per requester type and operation class on constructed lines, and on every
 * line of the third-party corpus (../shared/corpus), whose requesters and operations come from
 * real S3 logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLUMNS, formatLine, parseLine, type AccessLogRow } from '../../../shared/access-log/index.ts';
import { applySqlFiles, tableSqlFiles } from '../../../shared/snowflake/sql-files.ts';
import { corpusAvailable, corpusDir, corpusLines, corpusLogFiles, skipWithout } from '../../helpers/corpus.ts';
import { exec, startSnowflake, type Connection, type TestSnowflake } from '../../../local/harness/snowflake.ts';

let sf: TestSnowflake;
let conn: Connection;

const base: AccessLogRow = {
  bucketowner: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
  bucket_name: 'b1',
  requestdatetime: '2026-11-18T10:00:00Z',
  remoteip: '192.0.2.3',
  requester: 'arn:aws:iam::111122223333:user/alice',
  requestid: 'R',
  operation: 'REST.GET.OBJECT',
  key: 'a/b.txt',
  request_uri: 'GET /a/b.txt HTTP/1.1',
  httpstatus: 200,
  errorcode: null,
  bytessent: 100,
  objectsize: 100,
  totaltime: 5,
  turnaroundtime: 2,
  referrer: null,
  useragent: 'aws-cli/2.17.20 md/awscrt#0.20.11',
  versionid: null,
  hostid: 'H',
  sigv: 'SigV4',
  ciphersuite: 'TLS_AES_128_GCM_SHA256',
  authtype: 'AuthHeader',
  endpoint: 'b1.s3.us-east-1.amazonaws.com',
  tlsversion: 'TLSv1.3',
  accesspointarn: null,
  aclrequired: false,
  sourceregion: 'us-east-1',
  extrafields: null,
};

async function insert(rows: Array<{ row: AccessLogRow; logkey: string; logline: number }>): Promise<void> {
  if (rows.length === 0) return;
  const cols = [...COLUMNS, 'logbucket', 'logkey', 'logline', 'loadedat'];
  const binds = rows.map(({ row, logkey, logline }) => [
    ...COLUMNS.map((c) => row[c] ?? null),
    'log-bucket',
    logkey,
    logline,
    '2026-11-18T12:00:00Z',
  ]);
  await exec(conn, `INSERT INTO s3_access_logs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, binds);
}

type Enriched = Record<string, unknown>;
async function enrichedOf(logkey: string): Promise<Enriched[]> {
  return exec(conn, 'SELECT * FROM s3_access_logs_enriched WHERE logkey = ? ORDER BY logline', [logkey]);
}

/** Constructed cases: a row override and the enrichment it must get. */
const CASES: Array<[string, Partial<AccessLogRow>, Record<string, unknown>]> = [
  [
    'IAM user',
    {},
    { REQUESTER_TYPE: 'iam_user', REQUESTER_ACCOUNT: '111122223333', REQUESTER_NAME: 'alice', IS_ANONYMOUS: false },
  ],
  [
    'IAM user with a path',
    { requester: 'arn:aws:iam::111122223333:user/ops/bob' },
    { REQUESTER_TYPE: 'iam_user', REQUESTER_NAME: 'ops/bob' },
  ],
  [
    'assumed role',
    { requester: 'arn:aws:sts::444455556666:assumed-role/etl/i-0abc' },
    { REQUESTER_TYPE: 'assumed_role', REQUESTER_ACCOUNT: '444455556666', REQUESTER_NAME: 'etl/i-0abc' },
  ],
  [
    'root',
    { requester: 'arn:aws:iam::111122223333:root' },
    { REQUESTER_TYPE: 'root', REQUESTER_ACCOUNT: '111122223333', REQUESTER_NAME: 'root' },
  ],
  [
    'GovCloud partition',
    { requester: 'arn:aws-us-gov:iam::111122223333:user/gov' },
    { REQUESTER_TYPE: 'iam_user', REQUESTER_ACCOUNT: '111122223333' },
  ],
  [
    'anonymous',
    { requester: null, sigv: null, authtype: null },
    {
      REQUESTER_TYPE: 'anonymous',
      REQUESTER_ACCOUNT: null,
      REQUESTER_NAME: null,
      IS_ANONYMOUS: true,
      CROSS_ACCOUNT: null,
    },
  ],
  [
    'S3 itself',
    { requester: 'AmazonS3', operation: 'S3.EXPIRE.OBJECT' },
    { REQUESTER_TYPE: 'aws_service', OPERATION_CLASS: 'delete', BYTES_OUT: 0 },
  ],
  [
    'service principal',
    { requester: 'svc:delivery.logs.amazonaws.com' },
    { REQUESTER_TYPE: 'aws_service', REQUESTER_ACCOUNT: null },
  ],
  [
    'CloudFront OAI',
    { requester: 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL' },
    { REQUESTER_TYPE: 'cloudfront_oai', REQUESTER_ACCOUNT: null, REQUESTER_NAME: 'E2QWRUHAPOMQZL' },
  ],
  [
    'canonical user ID',
    { requester: '3e8f2c5c9b41d6f0a7e2b5c8d1f4a7e0b3c6d9f2e5a8b1c4d7e0f3a6b9c2d5e8' },
    { REQUESTER_TYPE: 'other', REQUESTER_ACCOUNT: null },
  ],
  ['object read', { httpstatus: 206, bytessent: 1024 }, { OPERATION_CLASS: 'read', BYTES_OUT: 1024, IS_ERROR: false }],
  [
    'failed read: the error document is not data',
    { httpstatus: 403, errorcode: 'AccessDenied', bytessent: 243 },
    { OPERATION_CLASS: 'read', BYTES_OUT: 0, IS_ERROR: true },
  ],
  ['not modified', { httpstatus: 304, bytessent: null }, { OPERATION_CLASS: 'read', BYTES_OUT: 0 }],
  ['head', { operation: 'REST.HEAD.OBJECT', bytessent: null }, { OPERATION_CLASS: 'read', BYTES_OUT: 0 }],
  [
    'website read',
    { operation: 'WEBSITE.GET.OBJECT', requester: null, bytessent: 77 },
    { OPERATION_CLASS: 'read', BYTES_OUT: 77 },
  ],
  [
    'copy source: the object size left the bucket',
    { operation: 'REST.COPY.OBJECT_GET', bytessent: 234, objectsize: 5000 },
    { OPERATION_CLASS: 'read', BYTES_OUT: 5000 },
  ],
  [
    'listing: bytes are a listing, not objects',
    { operation: 'REST.GET.BUCKET', key: null, bytessent: 9000 },
    { OPERATION_CLASS: 'list', BYTES_OUT: 0 },
  ],
  ['upload', { operation: 'REST.PUT.OBJECT', bytessent: null }, { OPERATION_CLASS: 'write', BYTES_OUT: 0 }],
  ['multipart part', { operation: 'REST.PUT.PART' }, { OPERATION_CLASS: 'write' }],
  ['copy destination', { operation: 'REST.COPY.OBJECT' }, { OPERATION_CLASS: 'write' }],
  ['delete', { operation: 'REST.DELETE.OBJECT', httpstatus: 204 }, { OPERATION_CLASS: 'delete' }],
  ['multi-object delete key', { operation: 'BATCH.DELETE.OBJECT' }, { OPERATION_CLASS: 'delete' }],
  [
    'multi-object delete request',
    { operation: 'REST.POST.MULTI_OBJECT_DELETE', key: null },
    { OPERATION_CLASS: 'delete' },
  ],
  ['bucket policy', { operation: 'REST.PUT.BUCKETPOLICY', key: null }, { OPERATION_CLASS: 'permission_change' }],
  [
    'bucket policy deleted',
    { operation: 'REST.DELETE.BUCKETPOLICY', key: null },
    { OPERATION_CLASS: 'permission_change' },
  ],
  ['bucket ACL', { operation: 'REST.PUT.ACL', key: null }, { OPERATION_CLASS: 'permission_change' }],
  ['object ACL', { operation: 'REST.PUT.ACL', key: 'a/b.txt' }, { OPERATION_CLASS: 'permission_change' }],
  [
    'public access block',
    { operation: 'REST.PUT.PUBLIC_ACCESS_BLOCK', key: null },
    { OPERATION_CLASS: 'permission_change' },
  ],
  [
    'public access block (issue spelling)',
    { operation: 'REST.PUT.BUCKETPUBLICACCESSBLOCK', key: null },
    { OPERATION_CLASS: 'permission_change' },
  ],
  [
    'ownership controls',
    { operation: 'REST.PUT.OWNERSHIP_CONTROLS', key: null },
    { OPERATION_CLASS: 'permission_change' },
  ],
  ['logging', { operation: 'REST.PUT.LOGGING_STATUS', key: null }, { OPERATION_CLASS: 'configuration_change' }],
  ['lifecycle', { operation: 'REST.PUT.LIFECYCLE', key: null }, { OPERATION_CLASS: 'configuration_change' }],
  ['lifecycle deleted', { operation: 'REST.DELETE.LIFECYCLE', key: null }, { OPERATION_CLASS: 'configuration_change' }],
  ['versioning', { operation: 'REST.PUT.VERSIONING', key: null }, { OPERATION_CLASS: 'configuration_change' }],
  [
    'reading a setting is not a change',
    { operation: 'REST.GET.BUCKETPOLICY', key: null },
    { OPERATION_CLASS: 'other' },
  ],
  ['bucket deleted', { operation: 'REST.DELETE.BUCKET', key: null }, { OPERATION_CLASS: 'delete' }],
  ['preflight', { operation: 'REST.OPTIONS.PREFLIGHT' }, { OPERATION_CLASS: 'other' }],
  ['key decoding', { key: 'reports/Q4%20summary%2B%26%3D%3A.pdf' }, { KEY_DECODED: 'reports/Q4 summary+&=:.pdf' }],
  ['a literal %20 stays one', { key: 'odd%2520name' }, { KEY_DECODED: 'odd%20name' }],
  ['no TLS', { ciphersuite: null, tlsversion: null }, { IS_TLS: false }],
  ['TLS', {}, { IS_TLS: true }],
  ['aws-cli', {}, { CLIENT_FAMILY: 'aws-cli' }],
  ['boto3', { useragent: 'Boto3/1.34.140 md/Botocore#1.34.140' }, { CLIENT_FAMILY: 'sdk-python' }],
  ['SDK for JavaScript', { useragent: 'aws-sdk-js/3.600.0 ua/2.1 os/linux' }, { CLIENT_FAMILY: 'sdk-js' }],
  ['SDK for Java', { useragent: 'aws-sdk-java/1.12.1 Linux/5.10' }, { CLIENT_FAMILY: 'sdk-java' }],
  ['SDK for Go v2', { useragent: 'aws-sdk-go-v2/1.30.0 os/linux' }, { CLIENT_FAMILY: 'sdk-go' }],
  ['console', { useragent: '[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]' }, { CLIENT_FAMILY: 'console' }],
  ['browser', { useragent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' }, { CLIENT_FAMILY: 'browser' }],
  ['curl', { useragent: 'curl/8.5.0' }, { CLIENT_FAMILY: 'curl' }],
  ['wget', { useragent: 'Wget/1.21.4' }, { CLIENT_FAMILY: 'wget' }],
  ['python-requests', { useragent: 'python-requests/2.31.0' }, { CLIENT_FAMILY: 'python-requests' }],
  ['unknown client', { useragent: 'Amazon CloudFront' }, { CLIENT_FAMILY: 'other' }],
  ['no user agent', { useragent: null }, { CLIENT_FAMILY: null }],
];

beforeAll(async () => {
  sf = await startSnowflake();
  conn = await sf.connect();
  await applySqlFiles(conn, tableSqlFiles());
  // The owner account of bucket b1 is inferred from its writers: two uploads by account 1111...
  await insert([
    ...[1, 2].map((n) => ({ row: { ...base, operation: 'REST.PUT.OBJECT' }, logkey: 'owner', logline: n })),
    ...CASES.map(([, over], i) => ({ row: { ...base, ...over }, logkey: 'cases', logline: i + 1 })),
  ]);
}, 60_000);

afterAll(async () => {
  await sf?.stop();
});

describe('s3_access_logs_enriched on constructed lines', () => {
  it('round-trips the constructed lines through the parser (they are valid log lines)', () => {
    for (const [name, over] of CASES)
      expect(parseLine(formatLine({ ...base, ...over })), name).toEqual({ ok: true, row: { ...base, ...over } });
  });

  it('classifies every case', async () => {
    const rows = await enrichedOf('cases');
    expect(rows).toHaveLength(CASES.length);
    CASES.forEach(([name, , want], i) => {
      const got = Object.fromEntries(
        Object.keys(want).map((k) => [k, rows[i]![k] === undefined ? 'missing' : rows[i]![k]]),
      );
      expect(got, name).toEqual(want);
    });
  });

  it('infers the bucket account from its writers and marks other accounts cross-account', async () => {
    const rows = await enrichedOf('cases');
    const byName = (n: string) => rows[CASES.findIndex(([name]) => name === n)]!;
    expect(byName('IAM user')).toMatchObject({ BUCKET_ACCOUNT: '111122223333', CROSS_ACCOUNT: false });
    expect(byName('assumed role')).toMatchObject({ BUCKET_ACCOUNT: '111122223333', CROSS_ACCOUNT: true });
    expect(byName('CloudFront OAI')).toMatchObject({ CROSS_ACCOUNT: null });
  });

  it('keeps every column of the table', async () => {
    const [row] = await enrichedOf('cases');
    for (const c of COLUMNS) expect(Object.keys(row!)).toContain(c.toUpperCase());
  });
});

describe.skipIf(skipWithout(corpusAvailable(), `the log corpus (${corpusDir})`))(
  's3_access_logs_enriched on the corpus',
  () => {
    const expectedClass: Record<string, string> = {
      'REST.GET.OBJECT': 'read',
      'REST.HEAD.OBJECT': 'read',
      'WEBSITE.GET.OBJECT': 'read',
      'REST.COPY.OBJECT_GET': 'read',
      'REST.GET.BUCKET': 'list',
      'REST.PUT.OBJECT': 'write',
      'SOAP.PUT.OBJECT': 'write',
      'REST.COPY.OBJECT': 'write',
      'BATCH.DELETE.OBJECT': 'delete',
      'REST.DELETE.OBJECT': 'delete',
      'S3.EXPIRE.OBJECT': 'delete',
      'REST.PUT.ACL': 'permission_change',
    };

    it('classifies every parsed corpus line: requester types and operation classes as S3 wrote them', async () => {
      let n = 0;
      for (const file of corpusLogFiles()) {
        const rows = corpusLines(file)
          .map((line, i) => ({ p: parseLine(line), logline: i + 1 }))
          .filter((x): x is { p: { ok: true; row: AccessLogRow }; logline: number } => x.p.ok)
          .map(({ p, logline }) => ({ row: p.row, logkey: `corpus/${file}`, logline }));
        await insert(rows);
        n += rows.length;
      }
      expect(n).toBeGreaterThan(1000);
      const rows = await exec<Enriched>(conn, "SELECT * FROM s3_access_logs_enriched WHERE logkey LIKE 'corpus/%'");
      expect(rows).toHaveLength(n);
      for (const r of rows) {
        const requester = r.REQUESTER as string | null;
        const type = r.REQUESTER_TYPE;
        const where = `${String(r.LOGKEY)}:${String(r.LOGLINE)}`;
        if (requester === null) expect(type, where).toBe('anonymous');
        else if (requester === 'AmazonS3' || requester.startsWith('svc:')) expect(type, where).toBe('aws_service');
        else if (/^arn:aws[a-z-]*:sts::\d{12}:assumed-role\//.test(requester))
          expect([type, r.REQUESTER_ACCOUNT], where).toEqual(['assumed_role', requester.split(':')[4]]);
        else if (/^arn:aws[a-z-]*:iam::\d{12}:user\//.test(requester)) expect(type, where).toBe('iam_user');
        else expect(type, where).toBe('other'); // canonical IDs, short test account numbers
        const op = r.OPERATION as string;
        if (expectedClass[op]) expect(r.OPERATION_CLASS, `${where} ${op}`).toBe(expectedClass[op]);
        else expect(['other', 'configuration_change'], `${where} ${op}`).toContain(r.OPERATION_CLASS);
        if (r.OPERATION_CLASS !== 'read') expect(Number(r.BYTES_OUT), where).toBe(0);
      }
      // Settings read by the corpus (GET versioning, logging, policy) are never changes.
      expect(
        rows.filter((r) => String(r.OPERATION).startsWith('REST.GET.') && r.OPERATION_CLASS === 'configuration_change'),
      ).toEqual([]);
      // The corpus covers the main requester types.
      expect(new Set(rows.map((r) => r.REQUESTER_TYPE))).toEqual(
        new Set(['anonymous', 'aws_service', 'assumed_role', 'iam_user', 'other']),
      );
    });
  },
);
