import type { AccessLogRow } from '../../shared/access-log/columns.ts';
import type { BucketSpec, Gen } from './generate.ts';

/**
 * The sample's story for the detections (sql/detections/): for each detection one planted incident
 * on the last day, and benign look-alikes that a naive rule would flag, spread over every day so
 * that they are part of the baseline. `planted` in the ground truth says which principal and IP
 * each detection must name; the tests and bench/detections.ts check the findings against it.
 *
 * Rows here draw from their own seeded stream (the caller passes a separate Gen), so adding them
 * leaves the background traffic and the original incident byte-identical.
 */

export interface PlantedFinding {
  /** Detection name (the file name under sql/detections/ without `.sql`). */
  detection: string;
  bucket: string;
  /** null where the finding has no principal (anonymous requests, a silent bucket). */
  principal: string | null;
  ip: string | null;
  /** Requests (or keys) the finding must count. */
  count: number;
  /** Bytes out, where the detection reports them. */
  bytes?: number;
}

/** The original incident (generate.ts) seen by the detections it must trip. */
export function incidentFindings(i: {
  bucket: string;
  principal: string;
  newIp: string;
  downloads: number;
  downloadedBytes: number;
  deletedKeys: string[];
}): PlantedFinding[] {
  return [
    {
      detection: 'mass-download',
      bucket: i.bucket,
      principal: i.principal,
      ip: i.newIp,
      count: i.downloads,
      bytes: i.downloadedBytes,
    },
    {
      detection: 'first-seen-ip-sensitive-read',
      bucket: i.bucket,
      principal: i.principal,
      ip: i.newIp,
      count: i.downloads,
      bytes: i.downloadedBytes,
    },
    { detection: 'bulk-deletion', bucket: i.bucket, principal: i.principal, ip: i.newIp, count: i.deletedKeys.length },
  ];
}

export interface Story {
  /** Rows to add, by source bucket. */
  rows: Map<string, AccessLogRow[]>;
  planted: PlantedFinding[];
  /** Source buckets whose logging is turned off (by a planted incident) at this instant. */
  loggingStops: Map<string, number>;
}

const ACCOUNT = '111122223333';
const OWNER_B = '3e8f2c5c9b41d6f0a7e2b5c8d1f4a7e0b3c6d9f2e5a8b1c4d7e0f3a6b9c2d5e8';
const HOUR = 3600 * 1000;

const CORP = 'acme-corp-data';
const BACKUPS = 'acme-backups';
const WEBSITE = 'acme-website';
export const ARCHIVE_BUCKET: BucketSpec = {
  name: 'acme-archive',
  owner: OWNER_B,
  // No background traffic: only the nightly archive job below writes here, once a day.
  rate: 0,
  window: 24,
  make: () => {
    throw new Error('acme-archive has no background traffic');
  },
};

const UA_SDK =
  'aws-sdk-java/2.25.60 Linux/6.1.0 OpenJDK_64-Bit_Server_VM/17.0.11+9 Java/17.0.11 vendor/Eclipse_Adoptium io/sync http/Apache cfg/retry-mode/legacy';
const UA_CLI =
  'aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.9 md/command#s3api';
const UA_BOTO =
  'Boto3/1.34.140 md/Botocore#1.34.140 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.4 cfg/retry-mode#legacy Botocore/1.34.140';
const UA_BROWSER =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const UA_LEGACY = 'aws-sdk-java/1.11.30 Linux/3.10.0 Java_HotSpot(TM)_64-Bit_Server_VM/25.101-b13/1.8.0_101';

const arnUser = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;
const AUDITOR = `arn:aws:sts::${ACCOUNT}:assumed-role/aws-config-recorder/AWSConfig-Describe`;
const VERIFIER = `arn:aws:sts::${ACCOUNT}:assumed-role/backup-verifier/restore-test`;
const ARCHIVER = `arn:aws:sts::${ACCOUNT}:assumed-role/archive-job/nightly`;
const ETL = `arn:aws:sts::${ACCOUNT}:assumed-role/etl-runner/i-0a1b2c3d4e5f60718`;
const PARTNER = 'arn:aws:sts::444455556666:assumed-role/partner-reader/sync';
const OPS_TEMP = arnUser('ops-temp');
const CONTRACTOR = arnUser('contractor-ci');
const LEGACY = arnUser('legacy-reporting');
const SIGNER = arnUser('asmith');
const EXTERNAL = 'arn:aws:sts::777788889999:assumed-role/data-sync/exfil-7';

type Who = { requester: string | null; ip: string; ua: string };

interface Ctx {
  g: Gen;
  add: (row: AccessLogRow) => void;
  planted: PlantedFinding[];
  /** Midnight UTC of the last day, in ms. */
  last: number;
  corp: BucketSpec;
  backups: BucketSpec;
  website: BucketSpec;
}

const at = (day: number, h: number, m: number, s = 0) => new Date(day + ((h * 60 + m) * 60 + s) * 1000);

/** Everything planted; `start` is the first day (UTC midnight), incidents happen on the last. */
export function buildStory(g: Gen, buckets: readonly BucketSpec[], start: Date, days: number): Story {
  const spec = (name: string) => {
    const b = buckets.find((x) => x.name === name);
    if (!b) throw new Error(`sample story: no bucket ${name}`);
    return b;
  };
  const rows = new Map<string, AccessLogRow[]>();
  const add = (row: AccessLogRow) => {
    const list = rows.get(row.bucket_name) ?? [];
    list.push(row);
    rows.set(row.bucket_name, list);
  };
  const planted: PlantedFinding[] = [];
  const c: Ctx = {
    g,
    add,
    planted,
    last: start.getTime() + (days - 1) * 24 * HOUR,
    corp: spec(CORP),
    backups: spec(BACKUPS),
    website: spec(WEBSITE),
  };
  for (let d = 0; d < days; d++) dailyLookAlikes(c, start.getTime() + d * 24 * HOUR);
  lastDayLookAlikes(c);
  const loggingStops = plantIncidents(c);
  return { rows, planted, loggingStops };
}

/** Benign look-alikes, every day (the baseline sees them too). */
function dailyLookAlikes(c: Ctx, day: number): void {
  const { g, add, corp, backups, website } = c;
  const r = g.rnd;
  // A nightly restore test reads ~1.04 GB of dumps from its known host: a big download, but the
  // same every night (mass-download compares with the principal's own baseline).
  const verifier: Who = { requester: VERIFIER, ip: '10.0.40.15', ua: UA_SDK };
  for (let i = 0; i < 8; i++) {
    const key = `db/nightly/verify/dump-${i + 1}.sql.gz`;
    const size = 127_000_000 + i * 1_000_000;
    add(
      g.request(backups, at(day, 1, 30, i * 40), verifier, 'REST.GET.OBJECT', key, 'GET', `/${key}`, {
        bytessent: size,
        objectsize: size,
        totaltime: r.int(4000, 9000),
      }),
    );
  }
  // The configuration recorder reads every bucket's settings: reads, not changes.
  const auditor: Who = { requester: AUDITOR, ip: '10.0.7.44', ua: UA_SDK };
  for (const b of [corp, backups, website]) {
    for (const [op, q] of [
      ['REST.GET.BUCKETPOLICY', 'policy'],
      ['REST.GET.LIFECYCLE', 'lifecycle'],
      ['REST.GET.VERSIONING', 'versioning'],
      ['REST.GET.LOGGING_STATUS', 'logging'],
      ['REST.GET.PUBLIC_ACCESS_BLOCK', 'publicAccessBlock'],
    ] as const) {
      add(
        g.request(b, at(day, 0, 12, r.int(0, 50)), auditor, op, null, 'GET', `/?${q}`, { bytessent: r.int(200, 900) }),
      );
    }
  }
  // The nightly archive job: the only traffic of acme-archive, one log object a day, so a
  // day without logs is its normal rhythm (logs-stopped compares with each bucket's usual gap).
  const archiver: Who = { requester: ARCHIVER, ip: '10.0.40.16', ua: UA_SDK };
  for (let i = 0; i < 12; i++) {
    const key = `archive/${new Date(day).toISOString().slice(0, 10)}/batch-${i}.tar.zst`;
    add(
      g.request(ARCHIVE_BUCKET, at(day, 1, 0, i * 20), archiver, 'REST.PUT.OBJECT', key, 'PUT', `/${key}`, {
        objectsize: r.int(5_000_000, 9_000_000),
      }),
    );
  }
  // Cache-busting query strings on the public website: a query string, but not a presigned URL.
  for (let i = 0; i < 6; i++) {
    add(
      g.request(
        website,
        at(day, 9 + i, r.int(0, 59)),
        { requester: null, ip: '192.0.2.14', ua: UA_BROWSER },
        'WEBSITE.GET.OBJECT',
        'css/site.css',
        'GET',
        '/css/site.css?v=3',
        {
          bytessent: 18_211,
          objectsize: 18_211,
          ciphersuite: null,
          endpoint: `${WEBSITE}.s3-website-us-east-1.amazonaws.com`,
        },
      ),
    );
  }
}

/** Look-alikes on the last day only. */
function lastDayLookAlikes(c: Ctx): void {
  const { g, add, last, corp } = c;
  const r = g.rnd;
  // A retry loop asking 40 times for one missing key: many 404s, but no enumeration.
  for (let i = 0; i < 40; i++) {
    const key = 'curated/orders/orders-2026-11-31.parquet';
    add(
      g.request(
        corp,
        at(last, 9, i),
        { requester: ETL, ip: '10.0.12.7', ua: UA_BOTO },
        'REST.GET.OBJECT',
        key,
        'GET',
        `/${key}`,
        { httpstatus: 404, errorcode: 'NoSuchKey', bytessent: 243 },
      ),
    );
  }
  // A staff member working from home reads ordinary reports from an IP new to her: first-seen IP,
  // but nothing sensitive.
  for (const key of ['reports/weekly/kpis.csv', 'reports/weekly/Q4%20summary.pdf']) {
    add(
      g.request(
        corp,
        at(last, 8, r.int(0, 59)),
        { requester: arnUser('asmith'), ip: '192.0.2.61', ua: UA_BROWSER },
        'REST.GET.OBJECT',
        key,
        'GET',
        `/${key}`,
        { bytessent: 48_000, objectsize: 48_000 },
      ),
    );
  }
  // A denied attempt to change a policy is not a change.
  add(
    g.request(
      corp,
      at(last, 11, 5),
      { requester: PARTNER, ip: '54.240.197.10', ua: UA_BOTO },
      'REST.PUT.BUCKETPOLICY',
      null,
      'PUT',
      '/?policy',
      { httpstatus: 403, errorcode: 'AccessDenied', bytessent: 243 },
    ),
  );
}

/** The planted incidents, last day; returns when logging stops for which bucket. */
function plantIncidents(c: Ctx): Map<string, number> {
  // Order matters: every step draws from the story's one seeded stream.
  const loggingStops = weakenBackups(c);
  openCorpToTheWorld(c);
  scanForKeys(c);
  legacyClient(c);
  presignedPayrollLink(c);
  crossAccountRead(c);
  return loggingStops;
}

/** Records a bucket-setting change (`/?<q>`), which sends no body. */
function change(c: Ctx, b: BucketSpec, t: Date, who: Who, op: string, q: string, method = 'PUT'): void {
  c.add(c.g.request(b, t, who, op, null, method, `/?${q}`, { bytessent: null }));
}

/** A compromised operator account weakens the backups: lifecycle expiry, versioning, logging off. */
function weakenBackups(c: Ctx): Map<string, number> {
  const { planted, last, backups } = c;
  const ops: Who = { requester: OPS_TEMP, ip: '192.0.2.201', ua: UA_CLI };
  change(c, backups, at(last, 2, 20), ops, 'REST.PUT.LIFECYCLE', 'lifecycle');
  planted.push({ detection: 'lifecycle-changed', bucket: BACKUPS, principal: OPS_TEMP, ip: ops.ip, count: 1 });
  change(c, backups, at(last, 2, 22), ops, 'REST.PUT.VERSIONING', 'versioning');
  planted.push({ detection: 'versioning-changed', bucket: BACKUPS, principal: OPS_TEMP, ip: ops.ip, count: 1 });
  change(c, backups, at(last, 2, 25), ops, 'REST.PUT.LOGGING_STATUS', 'logging');
  planted.push({ detection: 'logging-changed', bucket: BACKUPS, principal: OPS_TEMP, ip: ops.ip, count: 1 });
  planted.push({ detection: 'logs-stopped', bucket: BACKUPS, principal: null, ip: null, count: 1 });
  return new Map([[BACKUPS, at(last, 2, 25, 1).getTime()]]);
}

/** A CI user opens the corporate data bucket to the world, then someone anonymous reads from it. */
function openCorpToTheWorld(c: Ctx): void {
  const { g, add, planted, last, corp } = c;
  const ci: Who = { requester: CONTRACTOR, ip: '192.0.2.150', ua: UA_CLI };
  change(c, corp, at(last, 10, 2), ci, 'REST.DELETE.PUBLIC_ACCESS_BLOCK', 'publicAccessBlock', 'DELETE');
  change(c, corp, at(last, 10, 3), ci, 'REST.PUT.BUCKETPOLICY', 'policy');
  planted.push({ detection: 'permission-changed', bucket: CORP, principal: CONTRACTOR, ip: ci.ip, count: 2 });
  const anon: Who = { requester: null, ip: '198.51.100.77', ua: 'curl/8.5.0' };
  for (let i = 0; i < 6; i++) {
    const key = i % 2 ? 'curated/customers/customers.parquet' : 'curated/orders/orders-2026-11.parquet';
    add(
      g.request(corp, at(last, 10, 30 + i * 4), anon, 'REST.GET.OBJECT', key, 'GET', `/${key}`, {
        bytessent: 2_000_000 + i,
        objectsize: 2_000_000 + i,
        sigv: null,
        authtype: null,
      }),
    );
  }
  planted.push({ detection: 'anonymous-read-non-public', bucket: CORP, principal: null, ip: anon.ip, count: 6 });
}

/** An anonymous scanner guesses keys: 90 AccessDenied in eight minutes. */
function scanForKeys(c: Ctx): void {
  const { g, add, planted, last, corp } = c;
  const scanner: Who = { requester: null, ip: '203.0.113.45', ua: 'python-requests/2.31.0' };
  const guesses = [
    '.env',
    'backup.zip',
    'db.sql',
    'config.json',
    'id_rsa',
    'credentials',
    'dump.tar.gz',
    'admin/',
    'private/keys.txt',
  ];
  for (let i = 0; i < 90; i++) {
    const key = `${['', 'old/', 'tmp/', 'backup/', 'www/', 'prod/', 'dev/', 'data/', 'export/', 'site/'][i % 10]}${guesses[Math.floor(i / 10)]}`;
    add(
      g.request(
        corp,
        at(last, 14, Math.floor(i / 12), (i * 5) % 60),
        scanner,
        'REST.GET.OBJECT',
        key,
        'GET',
        `/${key}`,
        { httpstatus: 403, errorcode: 'AccessDenied', bytessent: 243 },
      ),
    );
  }
  planted.push({ detection: 'denied-burst-enumeration', bucket: CORP, principal: null, ip: scanner.ip, count: 90 });
}

/** A legacy reporting job: plain HTTP and Signature Version 2. */
function legacyClient(c: Ctx): void {
  const { g, add, planted, last, corp } = c;
  const legacy: Who = { requester: LEGACY, ip: '198.51.100.40', ua: UA_LEGACY };
  for (let i = 0; i < 25; i++) {
    const key = 'reports/weekly/kpis.csv';
    add(
      g.request(corp, at(last, 7, i * 2), legacy, 'REST.GET.OBJECT', key, 'GET', `/${key}`, {
        bytessent: 48_000,
        objectsize: 48_000,
        ciphersuite: null,
        sigv: 'SigV2',
        endpoint: `${CORP}.s3.amazonaws.com`,
      }),
    );
  }
  planted.push({ detection: 'plaintext-http', bucket: CORP, principal: LEGACY, ip: legacy.ip, count: 25 });
  planted.push({ detection: 'sigv2-or-presigned', bucket: CORP, principal: LEGACY, ip: legacy.ip, count: 25 });
}

/** A presigned link to a payroll file, opened from outside. */
function presignedPayrollLink(c: Ctx): void {
  const { g, add, planted, last, corp } = c;
  const link: Who = { requester: SIGNER, ip: '192.0.2.99', ua: UA_BROWSER };
  for (let i = 0; i < 3; i++) {
    const key = 'finance/payroll/bonus/bonus-2026.xlsx';
    add(
      g.request(
        corp,
        at(last, 16, i * 7),
        link,
        'REST.GET.OBJECT',
        key,
        'GET',
        `/${key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604800`,
        {
          bytessent: 31_000,
          objectsize: 31_000,
          authtype: 'QueryString',
        },
      ),
    );
  }
  planted.push({ detection: 'sigv2-or-presigned', bucket: CORP, principal: SIGNER, ip: link.ip, count: 3 });
  // Payroll read from an IP the signer never used: first-seen-ip-sensitive-read sees it too.
  planted.push({ detection: 'first-seen-ip-sensitive-read', bucket: CORP, principal: SIGNER, ip: link.ip, count: 3 });
}

/** An account nobody knows reads customer data. */
function crossAccountRead(c: Ctx): void {
  const { g, add, planted, last, corp } = c;
  const ext: Who = { requester: EXTERNAL, ip: '203.0.113.91', ua: UA_BOTO };
  let extBytes = 0;
  for (let i = 0; i < 12; i++) {
    const key = i % 2 ? 'curated/customers/customers.parquet' : 'curated/orders/orders-2026-11.parquet';
    const size = 3_000_000 + i;
    extBytes += size;
    add(
      g.request(corp, at(last, 20, i * 3), ext, 'REST.GET.OBJECT', key, 'GET', `/${key}`, {
        bytessent: size,
        objectsize: size,
      }),
    );
  }
  planted.push({
    detection: 'cross-account-read',
    bucket: CORP,
    principal: EXTERNAL,
    ip: ext.ip,
    count: 12,
    bytes: extBytes,
  });
}
