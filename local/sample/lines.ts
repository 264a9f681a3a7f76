/**
 * Deterministic, realistic S3 server access log lines for the benchmark, the parity test and the
 * memory check. Same seed → same lines. The mix follows real logs: mostly object GETs (many 206
 * range reads), PUT/HEAD/LIST, lifecycle and batch-delete lines full of `-`, presigned URLs,
 * 18..27-field generations, and a small share of the hard cases (raw quotes in the Request-URI,
 * doubled quotes in the User-Agent, requesters with spaces, non-UTC offsets are NOT generated:
 * S3 writes +0000).
 */
import { createWriteStream } from 'node:fs';
import { Prng } from './prng.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HEX = '0123456789abcdef';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ID = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

const USER_AGENTS = [
  'aws-sdk-java/1.12.261 Linux/5.10.135-122.509.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/25.342-b07 java/1.8.0_342 vendor/Oracle_Corporation cfg/retry-mode/standard',
  'aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/s3.cp',
  'Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15',
  'ElasticMapReduce/1.0.0 emrfs/s3n {} user:hadoop,groups:[hadoop], aws-sdk-java/1.12.397 Linux/5.10.178 OpenJDK_64-Bit_Server_VM/25.372-b07 java/1.8.0_372',
  'AWS_ATHENA, aws-sdk-java/1.12.261 Linux/5.10.135 OpenJDK_64-Bit_Server_VM/11.0.16 java/11.0.16 vendor/Amazon.com_Inc.',
  'S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.184-154.739.amzn2int.x86_64',
  'Amazon CloudFront',
  'curl/8.5.0',
];
const REFERERS = ['-', '-', '-', '-', 'https://www.example.com/', 'https://app.example.com/dashboard?tab=files'];
const CIPHERS = ['ECDHE-RSA-AES128-GCM-SHA256', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'];
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];

export interface GenerateOptions {
  seed?: number;
  /** Bucket name in every line. */
  bucket?: string;
  /** First request time (ms since epoch); times then advance by 0..2 s per line. */
  start?: number;
}

/** An endless deterministic sequence of lines (no newline). Take as many as you need. */
export function* generateLines(opts: GenerateOptions = {}): Generator<string> {
  // One seeded stream for everything, drawn in a fixed order: the same seed gives the same lines.
  const r = new Prng(opts.seed ?? 1);
  const pop = population(r, opts.bucket ?? 'example-data-lake');
  const timeText = clfTimeFormatter();
  let t = opts.start ?? Date.UTC(2024, 2, 14, 0, 0, 0);
  for (;;) {
    t += Math.floor(r.next() * 2000);
    const time = timeText(t);
    const q = drawRequest(r, pop);
    yield withTrailingFields(r, pop, q, operationLine(r, pop, q, time));
  }
}

/** What every line of one stream shares, drawn once at its start. */
interface Population {
  bucket: string;
  owner: string;
  requesters: string[];
  keys: string[];
}

function population(r: Prng, bucket: string): Population {
  const owner = r.chars(HEX, 64);
  const accounts = Array.from({ length: 8 }, () => String(100000000000 + Math.floor(r.next() * 899999999999)));
  const requesters = [
    ...accounts.map((a) => `arn:aws:sts::${a}:assumed-role/DataPipelineRole/session-${r.chars(HEX, 8)}`),
    ...accounts.slice(0, 3).map((a) => `arn:aws:iam::${a}:user/etl-${r.chars('abcdefghij', 5)}`),
    owner,
    '-',
    '-',
  ];
  const keys = Array.from({ length: 500 }, (_, i) => {
    const day = 1 + (i % 28);
    return `warehouse/events/date_%253D2024-03-${String(day).padStart(2, '0')}/part-${String(i).padStart(5, '0')}-${r.chars(HEX, 8)}-c000.snappy.parquet`;
  });
  return { bucket, owner, requesters, keys };
}

/** `[DD/Mon/YYYY:HH:MM:SS +0000]` of a time in ms, formatted once per second (lines share seconds). */
function clfTimeFormatter(): (t: number) => string {
  let timeText = '';
  let timeOf = -1;
  return (t) => {
    const sec = Math.floor(t / 1000);
    if (sec !== timeOf) {
      timeOf = sec;
      const d = new Date(sec * 1000);
      const p = (n: number) => String(n).padStart(2, '0');
      timeText = `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
    }
    return timeText;
  };
}

/** One request's fields; `op` (uniform in [0, 1)) chooses the operation. */
interface Request {
  op: number;
  ip: string;
  requester: string;
  requestId: string;
  hostId: string;
  key: string;
  /** The key as it appears in the Request-URI (one level of URL encoding less). */
  uriKey: string;
  size: number;
  total: number;
  turn: number;
  ua: string;
  ref: string;
  query: string;
  auth: string;
}

function drawRequest(r: Prng, pop: Population): Request {
  const op = r.next();
  const octet = () => Math.floor(r.next() * 256);
  const ip =
    r.next() < 0.3
      ? `172.31.${octet()}.${octet()}`
      : `${Math.floor(r.next() * 223) + 1}.${octet()}.${octet()}.${octet()}`;
  let requester = r.pick(pop.requesters);
  const requestId = r.chars(ID, 16);
  const hostId = `${r.chars(B64, 75)}=`;
  const key = r.pick(pop.keys);
  const size = Math.floor(r.next() * 3e9);
  const total = Math.floor(r.next() * 900) + 1;
  const turn = Math.max(1, total - Math.floor(r.next() * total));
  let ua = r.pick(USER_AGENTS);
  let ref = r.pick(REFERERS);
  const presigned = r.next() < 0.1;
  const query = presigned
    ? `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA${r.chars(ID, 16)}%2F20240314%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240314T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=${r.chars(HEX, 64)}`
    : '';
  const hard = r.next();
  if (hard < 0.002) requester = `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E${r.chars(ID, 13)}`;
  else if (hard < 0.004)
    ua = `"${ua}`; // doubled quote at the start, as real lines show
  else if (hard < 0.005) ref = `${ref === '-' ? 'https://x.example/' : ref}?q="quoted"`;
  const uriKey = key.replace(/%25/g, '%');
  const auth = presigned ? 'QueryString' : 'AuthHeader';
  return { op, ip, requester, requestId, hostId, key, uriKey, size, total, turn, ua, ref, query, auth };
}

/** The line up to the User-Agent (or the last field its operation writes), by the request's `op`. */
function operationLine(r: Prng, pop: Population, q: Request, time: string): string {
  const { op, key, uriKey, size, total, turn, ua, ref } = q;
  const from = `${pop.owner} ${pop.bucket} ${time} ${q.ip} ${q.requester} ${q.requestId}`;
  if (op < 0.55) {
    const range = r.next() < 0.6;
    const sent = range ? Math.min(size, 8388608) : size;
    return `${from} REST.GET.OBJECT ${key} "GET /${pop.bucket}/${uriKey}${q.query} HTTP/1.1" ${range ? 206 : 200} - ${sent} ${size} ${total} ${turn} "${ref}" "${ua}"`;
  }
  if (op < 0.65)
    return `${from} REST.HEAD.OBJECT ${key} "HEAD /${uriKey} HTTP/1.1" 200 - - ${size} ${total} - "${ref}" "${ua}"`;
  if (op < 0.75)
    return `${from} REST.PUT.OBJECT ${key} "PUT /${uriKey} HTTP/1.1" 200 - - ${size} ${total} ${turn} "-" "${ua}"`;
  if (op < 0.83)
    return `${from} REST.GET.BUCKET - "GET /?list-type=2&prefix=warehouse%2Fevents%2F&delimiter=%2F&encoding-type=url HTTP/1.1" 200 - ${Math.floor(r.next() * 90000) + 300} - ${total} ${turn} "-" "${ua}"`;
  if (op < 0.88)
    return `${from} REST.GET.OBJECT missing/${r.chars(HEX, 12)} "GET /missing/${r.chars(HEX, 12)} HTTP/1.1" 404 NoSuchKey 243 - ${total} - "${ref}" "${ua}"`;
  if (op < 0.91)
    return `${from} REST.GET.OBJECT ${key} "GET /${uriKey} HTTP/1.1" 403 AccessDenied 243 - ${total} - "-" "${ua}"`;
  if (op < 0.94)
    return `${pop.owner} ${pop.bucket} ${time} - AmazonS3 ${q.requestId} S3.EXPIRE.OBJECT ${key} "-" - - - ${size} - - "-" "-" ${r.chars(B64, 32)}`;
  if (op < 0.96) return `${from} BATCH.DELETE.OBJECT ${key} - 204 - - ${size} - - - -`;
  if (op < 0.98)
    return `${from} WEBSITE.GET.OBJECT index.html "GET / HTTP/1.1" 200 - 1534 1534 ${total} ${turn} "${ref}" "${ua}"`;
  return `${from} S3.COMPUTE.OBJECT.CHECKSUM ${key} "-" - - - ${size} - - "-" "-"`;
}

/** Trailing generations: 18 (pre-2019), 24, 25 (access point ARN), 26 (aclRequired), 27 (source region). */
function withTrailingFields(r: Prng, pop: Population, q: Request, operation: string): string {
  let line = operation;
  const g = r.next();
  const isExpire = line.includes(' S3.EXPIRE.OBJECT ');
  if (!isExpire) line += ' -';
  if (g >= 0.03) {
    const tls = r.next() < 0.5 ? 'TLSv1.2' : 'TLSv1.3';
    line += ` ${q.hostId} SigV4 ${r.pick(CIPHERS)} ${q.auth} ${pop.bucket}.s3.${r.pick(REGIONS)}.amazonaws.com ${tls}`;
    if (g >= 0.08) line += ' -';
    if (g >= 0.4) line += r.next() < 0.1 ? ' Yes' : ' -';
    if (g >= 0.85) line += ` ${r.next() < 0.5 ? '-' : r.pick(REGIONS)}`;
  }
  return line;
}

/** About `bytes` bytes of newline-terminated lines, as one string. */
export function generateText(bytes: number, opts: GenerateOptions = {}): string {
  const parts: string[] = [];
  let size = 0;
  for (const line of generateLines(opts)) {
    parts.push(line);
    size += Buffer.byteLength(line) + 1;
    if (size >= bytes) break;
  }
  return `${parts.join('\n')}\n`;
}

/** Writes about `bytes` bytes of lines to `file`, streaming (for files too big to hold as a string). */
export async function writeLogFile(file: string, bytes: number, opts: GenerateOptions = {}): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let buf: string[] = [];
  let bufLen = 0;
  for (const line of generateLines(opts)) {
    buf.push(line);
    bufLen += line.length + 1;
    if (bufLen >= 1 << 20) {
      const chunk = `${buf.join('\n')}\n`;
      written += Buffer.byteLength(chunk);
      buf = [];
      bufLen = 0;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      if (written >= bytes) break;
    }
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  return written;
}
