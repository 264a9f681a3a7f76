import type { AccessLogRow } from '../../shared/access-log/columns.ts';
import { formatLine } from '../../shared/access-log/index.ts';
import { Prng } from './prng.ts';
import { ARCHIVE_BUCKET, buildStory, incidentFindings, type PlantedFinding, type Story } from './story.ts';

/**
 * A deterministic, realistic sample of S3 server access logs, with its ground truth.
 *
 * Several source buckets log into one log bucket under the same target prefix (S3 allows that;
 * each line names its bucket). Each object holds a window of one bucket's requests and is named
 * the way S3 names log objects: `<prefix>YYYY-mm-DD-HH-MM-SS-<16 hex>`, the time being the
 * delivery time. Every line except the
 * planted malformed ones is serialized by the project's own `formatLine`, so the sample can never
 * drift from the parser.
 *
 * Planted incident: one principal that normally works from the office mass-downloads the
 * sensitive prefix `finance/payroll/` of `acme-corp-data` from an IP never seen before, then
 * deletes objects there (single deletes and a multi-object delete).
 */

export interface SampleOptions {
  /** Any number or string; the same seed gives the same bytes. */
  seed?: number | string;
  /** First day of traffic, `YYYY-MM-DD` (UTC). */
  start?: string;
  days?: number;
  /** Log bucket prefix, ending in `/`. */
  prefix?: string;
  /** Multiplies the background request rate (1 = default, about 4,000 lines over 3 days). */
  scale?: number;
}

export interface SampleLine {
  raw: string;
  /** The row the line encodes, or null for a planted malformed line. */
  row: AccessLogRow | null;
}

export interface SampleObject {
  key: string;
  /** The source bucket whose requests this object logs. */
  sourceBucket: string;
  body: string;
  lines: SampleLine[];
  /** Ground truth: rows = lines that parse, rejects = planted malformed lines. */
  rows: number;
  rejects: number;
}

export interface PlantedIncident {
  bucket: string;
  principal: string;
  /** The principal's usual (office) IP. */
  usualIp: string;
  /** The IP the mass download and the deletes came from; it appears nowhere else. */
  newIp: string;
  prefix: string;
  downloads: number;
  downloadedBytes: number;
  deletedKeys: string[];
  /** A key deleted in the incident: the parameter of the "who deleted" query. */
  investigatedKey: string;
}

export interface SampleTruth {
  seed: number | string;
  objects: number;
  lines: number;
  rows: number;
  rejects: number;
  incident: PlantedIncident;
  /** What each detection must find (local/sample/story.ts). */
  planted: PlantedFinding[];
}

export interface Sample {
  objects: SampleObject[];
  truth: SampleTruth;
}

const OWNER_A = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';
const OWNER_B = '3e8f2c5c9b41d6f0a7e2b5c8d1f4a7e0b3c6d9f2e5a8b1c4d7e0f3a6b9c2d5e8';
const ACCOUNT = '111122223333';
const PARTNER_ACCOUNT = '444455556666';
const REGION = 'us-east-1';

const INCIDENT_BUCKET = 'acme-corp-data';
const INCIDENT_PRINCIPAL = `arn:aws:iam::${ACCOUNT}:user/jdoe`;
const INCIDENT_USUAL_IP = '198.51.100.23';
const INCIDENT_NEW_IP = '203.0.113.77';
const SENSITIVE_PREFIX = 'finance/payroll/';
const INVESTIGATED_KEY = 'finance/payroll/2026/payroll-2026-10.csv';

const OAI = 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL';

const VPC_IPS = ['10.0.12.7', '10.0.14.201', '10.0.33.18', '172.31.5.90'];
const INTERNET_IPS = [
  '192.0.2.14',
  '192.0.2.88',
  '192.0.2.143',
  '100.64.3.9',
  '93.184.216.34',
  '2001:db8:85a3::8a2e:370:7334',
  '2001:db8:4f2a:1::1f',
  '2001:db8:beef:2::a0',
];
const CLOUDFRONT_IPS = ['130.176.12.45', '130.176.88.3', '2600:9000:5206::1'];
const PARTNER_IPS = ['54.240.197.10', '54.240.197.11'];

const STAFF = [
  { arn: INCIDENT_PRINCIPAL, ip: INCIDENT_USUAL_IP },
  { arn: `arn:aws:iam::${ACCOUNT}:user/asmith`, ip: '198.51.100.24' },
  { arn: `arn:aws:iam::${ACCOUNT}:user/finance-bot`, ip: '198.51.100.31' },
];
const ETL_ROLE = `arn:aws:sts::${ACCOUNT}:assumed-role/etl-runner/i-0a1b2c3d4e5f60718`;
const BACKUP_ROLE = `arn:aws:sts::${ACCOUNT}:assumed-role/backup-writer/backup-job-4711`;
const DEPLOY_ROLE = `arn:aws:sts::${ACCOUNT}:assumed-role/site-deploy/AWSCodeBuild-bbd32a55`;
const PARTNER = `arn:aws:sts::${PARTNER_ACCOUNT}:assumed-role/partner-reader/sync`;

const UA_SDK = 'aws-sdk-js/3.600.0 ua/2.1 os/linux#6.1.0 lang/js md/nodejs#20.18.0 api/s3#3.600.0';
const UA_CLI =
  'aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.9 md/command#s3.cp';
const UA_BOTO =
  'Boto3/1.34.140 md/Botocore#1.34.140 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.4 cfg/retry-mode#legacy Botocore/1.34.140';
const UA_BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
];
const UA_CLOUDFRONT = 'Amazon CloudFront';

/** Keys as logged: URL-encoded (spaces as %20). */
const DATA_KEYS = [
  'raw/events/2026/11/part-00000.parquet',
  'raw/events/2026/11/part-00001.parquet',
  'raw/events/2026/11/part-00002.parquet',
  'curated/customers/customers.parquet',
  'curated/orders/orders-2026-11.parquet',
  'reports/weekly/Q4%20summary.pdf',
  'reports/weekly/kpis.csv',
  'shared/partner/catalog.json',
  'shared/partner/prices.json',
];
const PAYROLL_KEYS = Array.from({ length: 24 }, (_, i) => {
  const year = 2025 + Math.floor(i / 12);
  const month = String((i % 12) + 1).padStart(2, '0');
  return `${SENSITIVE_PREFIX}${year}/payroll-${year}-${month}.csv`;
}).concat(['finance/payroll/bonus/bonus-2026.xlsx', 'finance/payroll/contracts/salaries%20master.xlsx']);
const SITE_KEYS = [
  'index.html',
  'about/index.html',
  'css/site.css',
  'js/app.js',
  'img/logo.png',
  'img/team%20photo.jpg',
  'docs/getting-started.html',
];
const ASSET_KEYS = [
  'fonts/inter.woff2',
  'downloads/installer-1.4.2.dmg',
  'downloads/installer-1.4.2.exe',
  'media/promo.mp4',
  'data/open-dataset.csv',
];

export interface BucketSpec {
  name: string;
  owner: string;
  /** Mean requests per hour of background traffic. */
  rate: number;
  /** Hours per delivered log object. */
  window: number;
  make: (g: Gen, t: Date) => AccessLogRow;
}

/** Builds rows; one instance per sample so everything draws from the same seeded stream. */
export class Gen {
  constructor(readonly rnd: Prng) {}

  base(bucket: BucketSpec, t: Date): AccessLogRow {
    const r = this.rnd;
    return {
      bucketowner: bucket.owner,
      bucket_name: bucket.name,
      requestdatetime: isoSeconds(t),
      remoteip: null,
      requester: null,
      requestid: r.chars('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 16),
      operation: null,
      key: null,
      request_uri: null,
      httpstatus: 200,
      errorcode: null,
      bytessent: null,
      objectsize: null,
      totaltime: r.int(4, 120),
      turnaroundtime: r.int(2, 40),
      referrer: null,
      useragent: null,
      versionid: null,
      hostid: r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 76),
      sigv: 'SigV4',
      ciphersuite: r.pick(['ECDHE-RSA-AES128-GCM-SHA256', 'TLS_AES_128_GCM_SHA256']),
      authtype: 'AuthHeader',
      endpoint: `${bucket.name}.s3.${REGION}.amazonaws.com`,
      tlsversion: null,
      accesspointarn: null,
      aclrequired: false,
      sourceregion: REGION,
      extrafields: null,
    };
  }

  /** Fills the TLS version to match the cipher suite, as S3 reports them. */
  private tls(row: AccessLogRow): AccessLogRow {
    if (row.ciphersuite) row.tlsversion = row.ciphersuite.startsWith('TLS_') ? 'TLSv1.3' : 'TLSv1.2';
    return row;
  }

  request(
    bucket: BucketSpec,
    t: Date,
    who: { requester: string | null; ip: string; ua: string },
    op: string,
    key: string | null,
    method: string,
    uri: string,
    fill: Partial<AccessLogRow> = {},
  ): AccessLogRow {
    const row = this.base(bucket, t);
    row.remoteip = who.ip;
    row.requester = who.requester;
    row.useragent = who.ua;
    row.operation = op;
    row.key = key;
    row.request_uri = `${method} ${uri} HTTP/1.1`;
    if (who.requester === null) {
      row.sigv = null;
      row.authtype = null;
    }
    Object.assign(row, fill);
    return this.tls(row);
  }

  get(
    bucket: BucketSpec,
    t: Date,
    who: { requester: string | null; ip: string; ua: string },
    key: string,
    size: number,
  ): AccessLogRow {
    const r = this.rnd;
    if (r.chance(0.04)) {
      return this.request(bucket, t, who, 'REST.GET.OBJECT', key, 'GET', `/${key}`, {
        httpstatus: 404,
        errorcode: 'NoSuchKey',
        bytessent: 243,
        objectsize: null,
      });
    }
    if (r.chance(0.06)) {
      return this.request(bucket, t, who, 'REST.GET.OBJECT', key, 'GET', `/${key}`, {
        httpstatus: 304,
        bytessent: null,
        objectsize: size,
      });
    }
    const partial = r.chance(0.08);
    const sent = partial ? Math.min(size, 1_048_576) : size;
    return this.request(bucket, t, who, 'REST.GET.OBJECT', key, 'GET', `/${key}`, {
      httpstatus: partial ? 206 : 200,
      bytessent: sent,
      objectsize: size,
      totaltime: r.int(8, 60) + Math.floor(sent / 200_000),
      turnaroundtime: r.int(4, 30),
    });
  }
}

function isoSeconds(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sizeOf(r: Prng, key: string): number {
  // Stable per key: the same object has the same size every time it is read.
  const k = new Prng(key);
  if (key.endsWith('.parquet')) return k.int(500_000, 8_000_000);
  if (key.endsWith('.mp4') || key.endsWith('.dmg') || key.endsWith('.exe')) return k.int(4_000_000, 12_000_000);
  // Full payroll exports: big enough that the mass download dominates any traffic ranking.
  if (key.startsWith(SENSITIVE_PREFIX)) return k.int(12_000_000, 40_000_000);
  void r;
  return k.int(900, 600_000);
}

type Who = { requester: string | null; ip: string; ua: string };

/** What one background request of the corporate data bucket needs: who is at work, and when. */
interface CorpRequest {
  g: Gen;
  b: BucketSpec;
  t: Date;
  /** The ETL role, from the VPC. */
  etl: Who;
  /** A staff member, from the office. */
  person: Who;
}

type CorpKind =
  | 'get'
  | 'payroll'
  | 'head'
  | 'list'
  | 'put'
  | 'copy'
  | 'multipart'
  | 'delete'
  | 'batch'
  | 'expire'
  | 'partner'
  | 'denied'
  | 'acl';

/** The corporate data bucket's request mix, by weight. */
const CORP_MIX: ReadonlyArray<readonly [CorpKind, number]> = [
  ['get', 34],
  ['payroll', 4],
  ['head', 10],
  ['list', 8],
  ['put', 12],
  ['copy', 4],
  ['multipart', 3],
  ['delete', 4],
  ['batch', 2],
  ['expire', 5],
  ['partner', 8],
  ['denied', 4],
  ['acl', 2],
];

const eventsPartKey = (r: Prng) => `raw/events/2026/11/part-${String(r.int(3, 999)).padStart(5, '0')}.parquet`;

/** One row per kind of the corporate bucket's background traffic. */
const CORP_REQUESTS: Record<CorpKind, (c: CorpRequest) => AccessLogRow> = {
  get({ g, b, t, etl, person }) {
    const r = g.rnd;
    const key = r.pick(DATA_KEYS);
    return g.get(b, t, r.chance(0.6) ? etl : person, key, sizeOf(r, key));
  },
  payroll({ g, b, t }) {
    // Normal payroll work: the finance people, from the office, a file at a time.
    const r = g.rnd;
    const key = r.pick(PAYROLL_KEYS);
    const who = r.chance(0.5) ? STAFF[2]! : STAFF[0]!;
    return g.get(b, t, { requester: who.arn, ip: who.ip, ua: UA_CLI }, key, sizeOf(r, key));
  },
  head({ g, b, t, etl }) {
    const key = g.rnd.pick(DATA_KEYS);
    return g.request(b, t, etl, 'REST.HEAD.OBJECT', key, 'HEAD', `/${key}`, { objectsize: sizeOf(g.rnd, key) });
  },
  list({ g, b, t, etl, person }) {
    const r = g.rnd;
    const uri = '/?list-type=2&prefix=raw%2Fevents%2F&encoding-type=url';
    return g.request(b, t, r.chance(0.5) ? etl : person, 'REST.GET.BUCKET', null, 'GET', uri, {
      bytessent: r.int(600, 9000),
    });
  },
  put({ g, b, t, etl }) {
    const r = g.rnd;
    const key = eventsPartKey(r);
    return g.request(b, t, etl, 'REST.PUT.OBJECT', key, 'PUT', `/${key}`, {
      objectsize: sizeOf(r, key),
      totaltime: r.int(60, 900),
      turnaroundtime: r.int(10, 60),
    });
  },
  copy({ g, b, t, etl }) {
    const r = g.rnd;
    const key = `curated/orders/orders-2026-11-${String(r.int(1, 28)).padStart(2, '0')}.parquet`;
    const op = r.chance(0.5) ? 'REST.COPY.OBJECT' : 'REST.COPY.OBJECT_GET';
    return g.request(b, t, etl, op, key, 'PUT', `/${key}`, { bytessent: 234, objectsize: sizeOf(r, key) });
  },
  multipart({ g, b, t, etl }) {
    const r = g.rnd;
    const key = `raw/exports/export-${r.int(100, 999)}.tar`;
    const step = r.pick(['REST.POST.UPLOADS', 'REST.PUT.PART', 'REST.POST.UPLOAD']);
    const uri =
      step === 'REST.POST.UPLOADS'
        ? `/${key}?uploads`
        : step === 'REST.PUT.PART'
          ? `/${key}?partNumber=${r.int(1, 9)}&uploadId=${r.hex(32)}`
          : `/${key}?uploadId=${r.hex(32)}`;
    return g.request(b, t, etl, step, key, step === 'REST.PUT.PART' ? 'PUT' : 'POST', uri, {
      objectsize: step === 'REST.PUT.PART' ? 8_388_608 : null,
      bytessent: step === 'REST.PUT.PART' ? null : r.int(300, 600),
    });
  },
  delete({ g, b, t, etl }) {
    const key = eventsPartKey(g.rnd);
    return g.request(b, t, etl, 'REST.DELETE.OBJECT', key, 'DELETE', `/${key}`, { httpstatus: 204 });
  },
  batch({ g, b, t, etl }) {
    const key = `tmp/scratch/run-${g.rnd.int(1000, 9999)}.json`;
    return g.request(b, t, etl, 'BATCH.DELETE.OBJECT', key, 'POST', '/?delete', {
      httpstatus: 204,
      request_uri: null,
      totaltime: null,
      turnaroundtime: null,
    });
  },
  expire: ({ g, b, t }) => expiration(g, b, t, `tmp/scratch/run-${g.rnd.int(1000, 9999)}.json`),
  partner({ g, b, t }) {
    const r = g.rnd;
    const key = r.pick(['shared/partner/catalog.json', 'shared/partner/prices.json']);
    return g.get(b, t, { requester: PARTNER, ip: r.pick(PARTNER_IPS), ua: UA_BOTO }, key, sizeOf(r, key));
  },
  denied({ g, b, t }) {
    // The partner probing outside its share, and an anonymous scanner.
    const r = g.rnd;
    const key = r.pick(PAYROLL_KEYS);
    const who = r.chance(0.5)
      ? { requester: PARTNER, ip: r.pick(PARTNER_IPS), ua: UA_BOTO }
      : { requester: null, ip: r.pick(INTERNET_IPS), ua: 'curl/8.5.0' };
    return g.request(b, t, who, 'REST.GET.OBJECT', key, 'GET', `/${key}`, {
      httpstatus: 403,
      errorcode: 'AccessDenied',
      bytessent: 243,
    });
  },
  acl: ({ g, b, t, person }) =>
    g.request(b, t, person, 'REST.GET.ACL', null, 'GET', '/?acl', { bytessent: 550, aclrequired: true }),
};

const BUCKETS: BucketSpec[] = [
  {
    name: INCIDENT_BUCKET,
    owner: OWNER_A,
    rate: 22,
    window: 2,
    make(g, t) {
      const r = g.rnd;
      const staff = r.pick(STAFF);
      const kind = r.weighted<CorpKind>(CORP_MIX);
      const etl = { requester: ETL_ROLE, ip: r.pick(VPC_IPS), ua: UA_BOTO };
      const person = { requester: staff.arn, ip: staff.ip, ua: r.pick([UA_CLI, UA_BROWSERS[0]!]) };
      return CORP_REQUESTS[kind]({ g, b: this as BucketSpec, t, etl, person });
    },
  },
  {
    name: 'acme-website',
    owner: OWNER_A,
    rate: 26,
    window: 3,
    make(g, t) {
      const r = g.rnd;
      const b = this as BucketSpec;
      const kind = r.weighted<string>([
        ['website', 55],
        ['oai', 30],
        ['deploy', 5],
        ['website404', 6],
        ['head', 4],
      ]);
      const key = r.pick(SITE_KEYS);
      const visitor = { requester: null, ip: r.pick(INTERNET_IPS), ua: r.pick(UA_BROWSERS) };
      switch (kind) {
        case 'website':
          return g.request(b, t, visitor, 'WEBSITE.GET.OBJECT', key, 'GET', `/${key}`, {
            bytessent: sizeOf(r, key),
            objectsize: sizeOf(r, key),
            endpoint: `${b.name}.s3-website-${REGION}.amazonaws.com`,
            ciphersuite: null,
            referrer: r.chance(0.5) ? `http://${b.name}.s3-website-${REGION}.amazonaws.com/` : null,
          });
        case 'website404':
          return g.request(b, t, visitor, 'WEBSITE.GET.OBJECT', 'wp-login.php', 'GET', '/wp-login.php', {
            httpstatus: 404,
            errorcode: 'NoSuchKey',
            bytessent: 312,
            endpoint: `${b.name}.s3-website-${REGION}.amazonaws.com`,
            ciphersuite: null,
          });
        case 'oai':
          // CloudFront fetching through its origin access identity: a requester with spaces.
          return g.get(b, t, { requester: OAI, ip: r.pick(CLOUDFRONT_IPS), ua: UA_CLOUDFRONT }, key, sizeOf(r, key));
        case 'deploy':
          return g.request(
            b,
            t,
            { requester: DEPLOY_ROLE, ip: r.pick(VPC_IPS), ua: UA_CLI },
            'REST.PUT.OBJECT',
            key,
            'PUT',
            `/${key}`,
            { objectsize: sizeOf(r, key) },
          );
        default:
          return g.request(
            b,
            t,
            { requester: OAI, ip: r.pick(CLOUDFRONT_IPS), ua: UA_CLOUDFRONT },
            'REST.HEAD.OBJECT',
            key,
            'HEAD',
            `/${key}`,
            { objectsize: sizeOf(r, key) },
          );
      }
    },
  },
  {
    name: 'acme-public-assets',
    owner: OWNER_B,
    rate: 14,
    window: 4,
    make(g, t) {
      const r = g.rnd;
      const b = this as BucketSpec;
      const key = r.pick(ASSET_KEYS);
      const anon = {
        requester: null,
        ip: r.pick(INTERNET_IPS),
        ua: r.pick([...UA_BROWSERS, 'curl/8.5.0', 'Wget/1.21.4']),
      };
      const kind = r.weighted<string>([
        ['get', 70],
        ['head', 12],
        ['list', 8],
        ['cross', 10],
      ]);
      if (kind === 'get') return g.get(b, t, anon, key, sizeOf(r, key));
      if (kind === 'head')
        return g.request(b, t, anon, 'REST.HEAD.OBJECT', key, 'HEAD', `/${key}`, { objectsize: sizeOf(r, key) });
      if (kind === 'list') {
        return g.request(b, t, anon, 'REST.GET.BUCKET', null, 'GET', '/', {
          httpstatus: 403,
          errorcode: 'AccessDenied',
          bytessent: 243,
        });
      }
      // A cross-account principal reading the public dataset with its own credentials.
      return g.get(
        b,
        t,
        { requester: PARTNER, ip: r.pick(PARTNER_IPS), ua: UA_SDK },
        'data/open-dataset.csv',
        sizeOf(r, 'data/open-dataset.csv'),
      );
    },
  },
  {
    name: 'acme-backups',
    owner: OWNER_B,
    rate: 6,
    window: 6,
    make(g, t) {
      const r = g.rnd;
      const b = this as BucketSpec;
      const kind = r.weighted<string>([
        ['put', 45],
        ['expire', 30],
        ['head', 15],
        ['denied', 10],
      ]);
      const key = `db/nightly/${isoSeconds(t).slice(0, 10)}/dump-${r.int(1, 9)}.sql.gz`;
      if (kind === 'put') {
        return g.request(
          b,
          t,
          { requester: BACKUP_ROLE, ip: r.pick(VPC_IPS), ua: UA_SDK },
          'REST.PUT.OBJECT',
          key,
          'PUT',
          `/${key}`,
          {
            objectsize: r.int(2_000_000, 30_000_000),
            totaltime: r.int(2000, 9000),
          },
        );
      }
      if (kind === 'expire')
        return expiration(g, b, t, `db/nightly/2026-0${r.int(1, 8)}-1${r.int(0, 9)}/dump-${r.int(1, 9)}.sql.gz`);
      if (kind === 'head')
        return g.request(
          b,
          t,
          { requester: BACKUP_ROLE, ip: r.pick(VPC_IPS), ua: UA_SDK },
          'REST.HEAD.OBJECT',
          key,
          'HEAD',
          `/${key}`,
          { objectsize: r.int(2_000_000, 30_000_000) },
        );
      return g.request(
        b,
        t,
        { requester: PARTNER, ip: r.pick(PARTNER_IPS), ua: UA_BOTO },
        'REST.GET.OBJECT',
        key,
        'GET',
        `/${key}`,
        {
          httpstatus: 403,
          errorcode: 'AccessDenied',
          bytessent: 243,
        },
      );
    },
  },
];

/** A lifecycle expiration: S3 itself acting, so nearly every field is `-`. */
function expiration(g: Gen, bucket: BucketSpec, t: Date, key: string): AccessLogRow {
  const row = g.base(bucket, t);
  return {
    ...row,
    requester: 'AmazonS3',
    operation: 'S3.EXPIRE.OBJECT',
    key,
    httpstatus: null,
    totaltime: null,
    turnaroundtime: null,
    hostid: row.hostid,
    sigv: null,
    ciphersuite: null,
    authtype: null,
    endpoint: null,
    tlsversion: null,
    aclrequired: false,
    sourceregion: null,
  };
}

/** Lines S3 never writes but real pipelines meet: truncation, garbage, a bad timestamp. */
function malformed(r: Prng, good: string): string {
  switch (r.int(0, 2)) {
    case 0:
      return good.split(' ').slice(0, 4).join(' ');
    case 1:
      return 'ERROR: upstream proxy returned 502 Bad Gateway';
    default:
      return good.replace(/\[[^\]]*\]/, '[31/Foo/2026:25:61:00 +0000]');
  }
}

function incidentRows(g: Gen, bucket: BucketSpec, day: Date): { rows: AccessLogRow[]; incident: PlantedIncident } {
  const r = g.rnd;
  const who = { requester: INCIDENT_PRINCIPAL, ip: INCIDENT_NEW_IP, ua: UA_BOTO };
  const rows: AccessLogRow[] = [];
  let t = day.getTime() + (2 * 3600 + 7 * 60) * 1000; // 02:07 UTC, outside office hours
  let downloadedBytes = 0;
  let downloads = 0;
  // First a listing of the prefix, then every object, several times over (a scripted loop).
  rows.push(
    g.request(bucket, new Date(t), who, 'REST.GET.BUCKET', null, 'GET', '/?list-type=2&prefix=finance%2Fpayroll%2F', {
      bytessent: 8123,
    }),
  );
  for (let pass = 0; pass < 6; pass++) {
    for (const key of PAYROLL_KEYS) {
      t += r.int(1, 9) * 1000;
      const size = sizeOf(r, key);
      rows.push(
        g.request(bucket, new Date(t), who, 'REST.GET.OBJECT', key, 'GET', `/${key}`, {
          bytessent: size,
          objectsize: size,
          totaltime: r.int(40, 400),
        }),
      );
      downloads++;
      downloadedBytes += size;
    }
  }
  // Then the deletes: one at a time for the most recent months, then a multi-object delete.
  const deletedKeys: string[] = [];
  const singles = PAYROLL_KEYS.slice(14, 22);
  for (const key of singles) {
    t += r.int(1, 4) * 1000;
    rows.push(g.request(bucket, new Date(t), who, 'REST.DELETE.OBJECT', key, 'DELETE', `/${key}`, { httpstatus: 204 }));
    deletedKeys.push(key);
  }
  t += 5000;
  const batch = PAYROLL_KEYS.slice(0, 12);
  rows.push(
    g.request(bucket, new Date(t), who, 'REST.POST.MULTI_OBJECT_DELETE', null, 'POST', '/?delete', { bytessent: 1420 }),
  );
  for (const key of batch) {
    rows.push(
      g.request(bucket, new Date(t), who, 'BATCH.DELETE.OBJECT', key, 'POST', '/?delete', {
        httpstatus: 204,
        request_uri: null,
        totaltime: null,
        turnaroundtime: null,
      }),
    );
    deletedKeys.push(key);
  }
  if (!deletedKeys.includes(INVESTIGATED_KEY)) throw new Error('sample: the investigated key must be deleted');
  return {
    rows,
    incident: {
      bucket: bucket.name,
      principal: INCIDENT_PRINCIPAL,
      usualIp: INCIDENT_USUAL_IP,
      newIp: INCIDENT_NEW_IP,
      prefix: SENSITIVE_PREFIX,
      downloads,
      downloadedBytes,
      deletedKeys,
      investigatedKey: INVESTIGATED_KEY,
    },
  };
}

const HOUR = 3600 * 1000;

export function generateSample(options: SampleOptions = {}): Sample {
  const seed = options.seed ?? 20261116;
  const start = new Date(`${options.start ?? '2026-11-16'}T00:00:00Z`);
  if (Number.isNaN(start.getTime())) throw new Error(`sample: bad start date ${options.start}`);
  const days = options.days ?? 3;
  const rnd = new Prng(seed);
  const run: Run = {
    rnd,
    g: new Gen(rnd),
    start: start.getTime(),
    days,
    prefix: options.prefix ?? 'logs/',
    scale: options.scale ?? 1,
    // The detections' incidents and look-alikes draw from their own stream (see story.ts).
    story: buildStory(new Gen(new Prng(`${seed}/story`)), BUCKETS, start, days),
    usedNames: new Set<string>(),
  };
  const objects: SampleObject[] = [];
  let incident: PlantedIncident | undefined;
  for (const bucket of [...BUCKETS, ARCHIVE_BUCKET]) {
    let planted: AccessLogRow[] = [];
    if (bucket.name === INCIDENT_BUCKET) {
      const made = incidentRows(run.g, bucket, new Date(run.start + (days - 1) * 24 * HOUR));
      planted = made.rows;
      incident = made.incident;
    }
    objects.push(...bucketObjects(run, bucket, planted));
  }
  if (!incident) throw new Error('sample: the incident bucket is missing');
  objects.sort((a, b) => a.key.localeCompare(b.key));
  const totals = objects.reduce(
    (acc, o) => ({ lines: acc.lines + o.lines.length, rows: acc.rows + o.rows, rejects: acc.rejects + o.rejects }),
    { lines: 0, rows: 0, rejects: 0 },
  );
  return {
    objects,
    truth: {
      seed,
      objects: objects.length,
      ...totals,
      incident,
      planted: [...incidentFindings(incident), ...run.story.planted],
    },
  };
}

/** One sample's settings and state, shared by its steps; everything draws from `rnd`, in order. */
interface Run {
  rnd: Prng;
  g: Gen;
  /** First day, ms since the epoch. */
  start: number;
  days: number;
  prefix: string;
  scale: number;
  story: Story;
  /** Object names given so far: a name is never reused. */
  usedNames: Set<string>;
}

/** One bucket's log objects, one per window that has requests; `planted` are the incident's rows. */
function bucketObjects(run: Run, bucket: BucketSpec, planted: AccessLogRow[]): SampleObject[] {
  const objects: SampleObject[] = [];
  const end = run.start + run.days * 24 * HOUR;
  for (let w = run.start; w < end; w += bucket.window * HOUR) {
    const rows = windowRows(run, bucket, planted, w);
    if (rows.length === 0) continue;
    const lines: SampleLine[] = rows.map((row) => ({ raw: formatLine(row), row }));
    plantMalformedLine(run.rnd, lines);
    const rejects = lines.filter((l) => l.row === null).length;
    objects.push({
      key: objectName(run, w + bucket.window * HOUR),
      sourceBucket: bucket.name,
      body: lines.map((l) => `${l.raw}\n`).join(''),
      lines,
      rows: lines.length - rejects,
      rejects,
    });
  }
  return objects;
}

/** The rows of one window starting at `w`, sorted by time: background traffic, incident and story. */
function windowRows(run: Run, bucket: BucketSpec, planted: AccessLogRow[], w: number): AccessLogRow[] {
  const { rnd, g } = run;
  const end = w + bucket.window * HOUR;
  const hourOfDay = new Date(w).getUTCHours();
  // Office-hours peak, quiet nights.
  const daytime = hourOfDay >= 7 && hourOfDay < 19 ? 1.6 : 0.5;
  const count = Math.max(0, Math.round(bucket.rate * bucket.window * daytime * run.scale * (0.7 + rnd.next() * 0.6)));
  const rows: AccessLogRow[] = [];
  for (let i = 0; i < count; i++)
    rows.push(bucket.make.call(bucket, g, new Date(w + Math.floor(rnd.next() * bucket.window * HOUR))));
  rows.push(...planted.filter((row) => inWindow(row, w, end)));
  rows.push(...(run.story.rows.get(bucket.name) ?? []).filter((row) => inWindow(row, w, end)));
  const stop = run.story.loggingStops.get(bucket.name);
  const logged = stop === undefined ? rows : rows.filter((row) => Date.parse(row.requestdatetime) < stop);
  return logged.sort((a, b) => a.requestdatetime.localeCompare(b.requestdatetime));
}

/** About one object in twelve carries one malformed line somewhere in the middle. */
function plantMalformedLine(rnd: Prng, lines: SampleLine[]): void {
  if (!rnd.chance(1 / 12)) return;
  const at = rnd.int(0, lines.length);
  lines.splice(at, 0, { raw: malformed(rnd, lines[Math.min(at, lines.length - 1)]!.raw), row: null });
}

/** S3 delivers a window's log a few minutes after it closes (`end`); the name is the delivery time. */
function objectName(run: Run, end: number): string {
  let name: string;
  do {
    const delivered = new Date(end + run.rnd.int(60, 1500) * 1000);
    name = `${run.prefix}${s3LogTimestamp(delivered)}-${run.rnd.hex(16, true)}`;
  } while (run.usedNames.has(name));
  run.usedNames.add(name);
  return name;
}

function inWindow(row: AccessLogRow, from: number, to: number): boolean {
  const t = Date.parse(row.requestdatetime);
  return t >= from && t < to;
}

/** `YYYY-mm-DD-HH-MM-SS`, UTC, as in S3 log object names. */
export function s3LogTimestamp(t: Date): string {
  return isoSeconds(t).slice(0, 19).replace('T', '-').replace(/:/g, '-');
}
