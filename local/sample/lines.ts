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
  const seeded = new Prng(opts.seed ?? 1);
  const rnd = () => seeded.next();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const str = (alphabet: string, n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    return s;
  };
  const bucket = opts.bucket ?? 'example-data-lake';
  const owner = str(HEX, 64);
  const accounts = Array.from({ length: 8 }, () => String(100000000000 + Math.floor(rnd() * 899999999999)));
  const requesters = [
    ...accounts.map((a) => `arn:aws:sts::${a}:assumed-role/DataPipelineRole/session-${str(HEX, 8)}`),
    ...accounts.slice(0, 3).map((a) => `arn:aws:iam::${a}:user/etl-${str('abcdefghij', 5)}`),
    owner,
    '-',
    '-',
  ];
  const keys = Array.from({ length: 500 }, (_, i) => {
    const day = 1 + (i % 28);
    return `warehouse/events/date_%253D2024-03-${String(day).padStart(2, '0')}/part-${String(i).padStart(5, '0')}-${str(HEX, 8)}-c000.snappy.parquet`;
  });
  let t = opts.start ?? Date.UTC(2024, 2, 14, 0, 0, 0);
  let timeText = '';
  let timeOf = -1;

  for (;;) {
    t += Math.floor(rnd() * 2000);
    const sec = Math.floor(t / 1000);
    if (sec !== timeOf) {
      timeOf = sec;
      const d = new Date(sec * 1000);
      const p = (n: number) => String(n).padStart(2, '0');
      timeText = `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
    }
    const r = rnd();
    const ip =
      rnd() < 0.3
        ? `172.31.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`
        : `${Math.floor(rnd() * 223) + 1}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`;
    let requester = pick(requesters);
    const requestId = str(ID, 16);
    const hostId = `${str(B64, 75)}=`;
    const key = pick(keys);
    const size = Math.floor(rnd() * 3e9);
    const total = Math.floor(rnd() * 900) + 1;
    const turn = Math.max(1, total - Math.floor(rnd() * total));
    let ua = pick(USER_AGENTS);
    let ref = pick(REFERERS);
    let line: string;
    const presigned = rnd() < 0.1;
    const uriKey = key.replace(/%25/g, '%');
    const query = presigned
      ? `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA${str(ID, 16)}%2F20240314%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240314T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=${str(HEX, 64)}`
      : '';
    const auth = presigned ? 'QueryString' : 'AuthHeader';
    const hard = rnd();
    if (hard < 0.002) requester = `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E${str(ID, 13)}`;
    else if (hard < 0.004)
      ua = `"${ua}`; // doubled quote at the start, as real lines show
    else if (hard < 0.005) ref = `${ref === '-' ? 'https://x.example/' : ref}?q="quoted"`;

    if (r < 0.55) {
      const range = rnd() < 0.6;
      const sent = range ? Math.min(size, 8388608) : size;
      line = `${owner} ${bucket} ${timeText} ${ip} ${requester} ${requestId} REST.GET.OBJECT ${key} "GET /${bucket}/${uriKey}${query} HTTP/1.1" ${range ? 206 : 200} - ${sent} ${size} ${total} ${turn} "${ref}" "${ua}"`;
    } else if (r < 0.65) {
      line = `${owner} ${bucket} ${timeText} ${ip} ${requester} ${requestId} REST.HEAD.OBJECT ${key} "HEAD /${uriKey} HTTP/1.1" 200 - - ${size} ${total} - "${ref}" "${ua}"`;
    } else if (r < 0.75) {
      line = `${owner} ${bucket} ${timeText} ${ip} ${requester} ${requestId} REST.PUT.OBJECT ${key} "PUT /${uriKey} HTTP/1.1" 200 - - ${size} ${total} ${turn} "-" "${ua}"`;
    } else if (r < 0.83) {
      line = `${owner} ${bucket} ${timeText} ${ip} ${requester} ${requestId} REST.GET.BUCKET - "GET /?list-type=2&prefix=warehouse%2Fevents%2F&delimiter=%2F&encoding-type=url HTTP/1.1" 200 - ${Math.floor(rnd() * 90000) + 300} - ${total} ${turn} "-" "${ua}"`;
    } else if (r < 0.88) {
      line = `${owner} ${bucket} ${timeText} ${ip} ${requester} ${requestId} REST.GET.OBJECT missing/${str(HEX, 12)} "GET /missing/${str(HEX, 12)} HTTP/1.1" 404 NoSuchKey 243 - ${total} - "${ref}" "${ua}"`;
    } else if (r < 0.91) {
      line = `${owner} ${bucket} ${timeText} ${ip} ${requester} ${requestId} REST.GET.OBJECT ${key} "GET /${uriKey} HTTP/1.1" 403 AccessDenied 243 - ${total} - "-" "${ua}"`;
    } else if (r < 0.94) {
      line = `${owner} ${bucket} ${timeText} - AmazonS3 ${requestId} S3.EXPIRE.OBJECT ${key} "-" - - - ${size} - - "-" "-" ${str(B64, 32)}`;
    } else if (r < 0.96) {
      line = `${owner} ${bucket} ${timeText} ${ip} ${requester} ${requestId} BATCH.DELETE.OBJECT ${key} - 204 - - ${size} - - - -`;
    } else if (r < 0.98) {
      line = `${owner} ${bucket} ${timeText} ${ip} ${requester} ${requestId} WEBSITE.GET.OBJECT index.html "GET / HTTP/1.1" 200 - 1534 1534 ${total} ${turn} "${ref}" "${ua}"`;
    } else {
      line = `${owner} ${bucket} ${timeText} ${ip} ${requester} ${requestId} S3.COMPUTE.OBJECT.CHECKSUM ${key} "-" - - - ${size} - - "-" "-"`;
    }
    // Trailing generations: 18 (pre-2019), 24, 25 (access point ARN), 26 (aclRequired), 27 (source region).
    const g = rnd();
    const isExpire = line.includes(' S3.EXPIRE.OBJECT ');
    if (!isExpire) line += ' -';
    if (g >= 0.03) {
      const tls = rnd() < 0.5 ? 'TLSv1.2' : 'TLSv1.3';
      line += ` ${hostId} SigV4 ${pick(CIPHERS)} ${auth} ${bucket}.s3.${pick(REGIONS)}.amazonaws.com ${tls}`;
      if (g >= 0.08) line += ' -';
      if (g >= 0.4) line += rnd() < 0.1 ? ' Yes' : ' -';
      if (g >= 0.85) line += ` ${rnd() < 0.5 ? '-' : pick(REGIONS)}`;
    }
    yield line;
  }
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
