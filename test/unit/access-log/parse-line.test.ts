import { describe, expect, it } from 'vitest';
import { COLUMNS, parseLine, type AccessLogRow } from '../../../shared/access-log/index.ts';

// Fixture lines written for these tests (not copied from the corpus). `line()` builds one from
// fields so each test changes only what it is about.
const OWNER = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const BASE = {
  owner: OWNER,
  bucket: 'example-logs',
  time: '[14/Mar/2024:09:26:53 +0000]',
  ip: '198.51.100.7',
  requester: 'arn:aws:iam::111122223333:user/alice',
  id: 'Q8D3K2M1ZX7P4R5T',
  op: 'REST.GET.OBJECT',
  key: 'photos/2024/cat.jpg',
  uri: '"GET /photos/2024/cat.jpg HTTP/1.1"',
  status: '200',
  err: '-',
  bytes: '5120',
  size: '5120',
  total: '41',
  turn: '39',
  ref: '"https://example.org/gallery"',
  ua: '"Mozilla/5.0 (X11; Linux x86_64)"',
  trailing: [
    '-',
    'hostidAAAAbbbbCCCC1234=',
    'SigV4',
    'TLS_AES_128_GCM_SHA256',
    'AuthHeader',
    'example-logs.s3.eu-west-1.amazonaws.com',
    'TLSv1.3',
  ] as string[],
};
type Parts = typeof BASE;
function line(over: Partial<Parts> = {}): string {
  const p = { ...BASE, ...over };
  return [
    p.owner,
    p.bucket,
    p.time,
    p.ip,
    p.requester,
    p.id,
    p.op,
    p.key,
    p.uri,
    p.status,
    p.err,
    p.bytes,
    p.size,
    p.total,
    p.turn,
    p.ref,
    p.ua,
    ...p.trailing,
  ].join(' ');
}
function row(l: string): AccessLogRow {
  const r = parseLine(l);
  if (!r.ok) throw new Error(`expected a row, got reject ${r.reason}`);
  return r.row;
}
function reason(l: string): string {
  const r = parseLine(l);
  if (r.ok) throw new Error('expected a reject');
  return r.reason;
}

describe('parseLine: the common line', () => {
  it('types every column, in COLUMNS order', () => {
    const r = row(line());
    expect(Object.keys(r)).toEqual([...COLUMNS]);
    expect(r).toEqual({
      bucketowner: OWNER,
      bucket_name: 'example-logs',
      requestdatetime: '2024-03-14T09:26:53Z',
      remoteip: '198.51.100.7',
      requester: 'arn:aws:iam::111122223333:user/alice',
      requestid: 'Q8D3K2M1ZX7P4R5T',
      operation: 'REST.GET.OBJECT',
      key: 'photos/2024/cat.jpg',
      request_uri: 'GET /photos/2024/cat.jpg HTTP/1.1',
      httpstatus: 200,
      errorcode: null,
      bytessent: 5120,
      objectsize: 5120,
      totaltime: 41,
      turnaroundtime: 39,
      referrer: 'https://example.org/gallery',
      useragent: 'Mozilla/5.0 (X11; Linux x86_64)',
      versionid: null,
      hostid: 'hostidAAAAbbbbCCCC1234=',
      sigv: 'SigV4',
      ciphersuite: 'TLS_AES_128_GCM_SHA256',
      authtype: 'AuthHeader',
      endpoint: 'example-logs.s3.eu-west-1.amazonaws.com',
      tlsversion: 'TLSv1.3',
      accesspointarn: null,
      aclrequired: null,
      sourceregion: null,
      extrafields: null,
    });
  });
});

describe('parseLine: time', () => {
  it('applies a negative offset', () => {
    expect(row(line({ time: '[31/Dec/2023:22:30:00 -0230]' })).requestdatetime).toBe('2024-01-01T01:00:00Z');
  });
  it('applies a positive offset', () => {
    expect(row(line({ time: '[01/Mar/2024:01:15:09 +0200]' })).requestdatetime).toBe('2024-02-29T23:15:09Z');
  });
  it.each([
    ['[2024-03-14]'],
    ['[14/Mar/2024:09:26:53]'],
    ['[14/Mrz/2024:09:26:53 +0000]'],
    ['[30/Feb/2024:09:26:53 +0000]'],
    ['[29/Feb/2023:09:26:53 +0000]'],
    ['[14/Mar/2024:24:00:00 +0000]'],
    ['[14/Mar/2024:09:60:00 +0000]'],
    ['[14/Mar/2024:09:26:53 *0000]'],
    ['[14/Mar/2024:09:26:53 +00:00]'],
    ['14/Mar/2024:09:26:53'],
  ])('rejects %s as bad_time', (time) => {
    expect(reason(line({ time }))).toBe('bad_time');
  });
  it('accepts 29 Feb in a leap year', () => {
    expect(row(line({ time: '[29/Feb/2024:00:00:00 +0000]' })).requestdatetime).toBe('2024-02-29T00:00:00Z');
  });
});

describe('parseLine: nulls', () => {
  it('maps - and "-" to null in every nullable column', () => {
    const r = row(
      line({
        ip: '-',
        requester: '-',
        id: '-',
        key: '-',
        uri: '"-"',
        status: '-',
        err: '-',
        bytes: '-',
        size: '-',
        total: '-',
        turn: '-',
        ref: '"-"',
        ua: '"-"',
        trailing: ['-', '-', '-', '-', '-', '-', '-', '-', '-', '-'],
      }),
    );
    for (const c of COLUMNS) {
      if (c === 'bucketowner' || c === 'bucket_name' || c === 'requestdatetime' || c === 'operation') continue;
      if (c === 'aclrequired') expect(r[c], c).toBe(false);
      else expect(r[c], c).toBeNull();
    }
  });
  it('accepts unquoted - for Request-URI, Referer and User-Agent (BATCH.DELETE, COPY lines)', () => {
    const r = row(line({ op: 'BATCH.DELETE.OBJECT', uri: '-', ref: '-', ua: '-', status: '204' }));
    expect([r.request_uri, r.referrer, r.useragent, r.httpstatus]).toEqual([null, null, null, 204]);
  });
  it('keeps a lifecycle line with - almost everywhere', () => {
    const r = row(
      line({
        ip: '-',
        requester: 'AmazonS3',
        op: 'S3.EXPIRE.OBJECT',
        uri: '"-"',
        status: '-',
        bytes: '-',
        size: '3922',
        total: '-',
        turn: '-',
        ref: '"-"',
        ua: '"-"',
        trailing: ['v3rsion', 'h0st', '-', '-', '-', '-', '-'],
      }),
    );
    expect(r.operation).toBe('S3.EXPIRE.OBJECT');
    expect(r.objectsize).toBe(3922);
    expect(r.httpstatus).toBeNull();
    expect(r.versionid).toBe('v3rsion');
  });
});

describe('parseLine: field counts', () => {
  it('17 fields (through User-Agent): trailing columns null', () => {
    const r = row(line({ trailing: [] }));
    expect(r.useragent).toBe('Mozilla/5.0 (X11; Linux x86_64)');
    expect(r.versionid).toBeNull();
    expect(r.aclrequired).toBeNull();
  });
  it('18 fields (pre-2019): version id only', () => {
    expect(row(line({ trailing: ['3HL4kqtJvjVBH40Nrjfkd'] })).versionid).toBe('3HL4kqtJvjVBH40Nrjfkd');
  });
  it('25 fields: access point ARN', () => {
    const r = row(line({ trailing: [...BASE.trailing, 'arn:aws:s3:eu-west-1:111122223333:accesspoint/ap1'] }));
    expect(r.accesspointarn).toBe('arn:aws:s3:eu-west-1:111122223333:accesspoint/ap1');
    expect(r.aclrequired).toBeNull();
  });
  it('26 fields: aclRequired Yes → true, - → false', () => {
    expect(row(line({ trailing: [...BASE.trailing, '-', 'Yes'] })).aclrequired).toBe(true);
    expect(row(line({ trailing: [...BASE.trailing, '-', '-'] })).aclrequired).toBe(false);
  });
  it('26 fields: an undocumented aclRequired value is unknown (null), not a reject', () => {
    expect(row(line({ trailing: [...BASE.trailing, '-', 'Maybe'] })).aclrequired).toBeNull();
  });
  it('27 fields: source region', () => {
    const r = row(line({ trailing: [...BASE.trailing, '-', '-', 'us-east-2'] }));
    expect(r.sourceregion).toBe('us-east-2');
    expect(r.extrafields).toBeNull();
  });
  it('more than 27 fields: the rest verbatim in extrafields', () => {
    const r = row(line({ trailing: [...BASE.trailing, '-', 'Yes', 'us-east-2', 'Future1', 'x=y', 'z'] }));
    expect(r.sourceregion).toBe('us-east-2');
    expect(r.extrafields).toBe('Future1 x=y z');
  });
  it('fewer than 17 fields is too_few_fields', () => {
    const full = line({ trailing: [] });
    expect(reason(full.slice(0, full.lastIndexOf(' "Mozilla')))).toBe('too_few_fields');
    expect(reason(full.slice(0, full.indexOf(' 200 ') + 4))).toBe('too_few_fields');
    expect(reason(`${OWNER} example-logs`)).toBe('too_few_fields');
    expect(reason('')).toBe('too_few_fields');
    expect(reason('   ')).toBe('too_few_fields');
  });
  it('a User-Agent cut before its closing quote is too_few_fields', () => {
    const full = line({ trailing: [] });
    expect(reason(full.slice(0, -1))).toBe('too_few_fields');
  });
  it('ignores trailing whitespace and \\r', () => {
    expect(row(`${line()}  \r`).tlsversion).toBe('TLSv1.3');
    expect(row(`${line({ trailing: [...BASE.trailing, '-', 'Yes'] })} `).aclrequired).toBe(true);
  });
});

describe('parseLine: quoted fields are delimited by structure', () => {
  it('keeps raw quotes inside the Request-URI', () => {
    const uri = '"GET /search?q="quoted"&x=",", HTTP/1.1"';
    expect(row(line({ uri })).request_uri).toBe('GET /search?q="quoted"&x=",", HTTP/1.1');
  });
  it('keeps a quote right before HTTP/x.y', () => {
    expect(row(line({ uri: '"GET /" HTTP/1.1"' })).request_uri).toBe('GET /" HTTP/1.1');
  });
  it('skips a fake HTTP/ inside the URI when the fields after it do not fit', () => {
    const uri = '"GET /x?a= HTTP/1.1" 999 trick HTTP/1.1"';
    expect(row(line({ uri })).request_uri).toBe('GET /x?a= HTTP/1.1" 999 trick HTTP/1.1');
  });
  it('accepts a request line without an HTTP version (OPTIONS *, HTTP/2)', () => {
    expect(row(line({ uri: '"OPTIONS * HTTP/2"' })).request_uri).toBe('OPTIONS * HTTP/2');
    expect(row(line({ uri: '"BREW /pot"' })).request_uri).toBe('BREW /pot');
  });
  it('keeps quotes and spaces inside Referer and User-Agent', () => {
    const r = row(line({ ref: '"https://x.test/?a="b" c=d"', ua: '"() { :; }; echo "pwned" > /tmp/x"' }));
    expect(r.referrer).toBe('https://x.test/?a="b" c=d');
    expect(r.useragent).toBe('() { :; }; echo "pwned" > /tmp/x');
  });
  it('keeps doubled quotes at the start or end of a User-Agent or Referer', () => {
    expect(row(line({ ua: '""Mozilla/5.0 (Windows NT 10.0)"' })).useragent).toBe('"Mozilla/5.0 (Windows NT 10.0)');
    expect(row(line({ ua: '"Safari/604.1""' })).useragent).toBe('Safari/604.1"');
    expect(row(line({ ref: '"http://x.test/?id=452""' })).referrer).toBe('http://x.test/?id=452"');
  });
  it('a Referer followed by an unquoted - User-Agent', () => {
    const r = row(line({ ref: '"https://x.test/a" b"', ua: '-' }));
    expect(r.referrer).toBe('https://x.test/a" b');
    expect(r.useragent).toBeNull();
  });
  it('accepts unicode and replacement characters inside quoted fields', () => {
    const r = row(line({ ua: '"Bücher/1.0 \u{1F600} \uFFFD"' }));
    expect(r.useragent).toBe('Bücher/1.0 \u{1F600} \uFFFD');
  });
  it('rejects an unquoted Request-URI, Referer or User-Agent that is not -', () => {
    expect(reason(line({ uri: 'GET' }))).toBe('bad_request_uri');
    expect(reason(line({ ref: 'https://x.test/' }))).toBe('bad_referrer');
    expect(reason(line({ ref: '-', ua: 'curl/8' }))).toBe('bad_useragent');
    // After a quoted Referer the User-Agent must start with a quote or be -: else it never ends.
    expect(reason(line({ ua: 'curl/8' }))).toBe('too_few_fields');
  });
});

describe('parseLine: the head', () => {
  it('keeps a requester with spaces (CloudFront origin access identity)', () => {
    const requester = 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1ABCDEF23456';
    const r = row(line({ requester }));
    expect(r.requester).toBe(requester);
    expect(r.requestid).toBe(BASE.id);
    expect(r.operation).toBe('REST.GET.OBJECT');
    expect(r.key).toBe(BASE.key);
  });
  it('treats a double space between fields as one separator', () => {
    const r = row(line({ ip: '203.0.113.9 ' }));
    expect(r.remoteip).toBe('203.0.113.9');
    expect(r.requester).toBe(BASE.requester);
  });
  it.each([
    'S3.COMPUTE.OBJECT.CHECKSUM',
    'WEBSITE.GET.OBJECT',
    'BATCH.DELETE.OBJECT',
    'SOAP.PUT.OBJECT',
    'REST.COPY.OBJECT_GET',
    'S3.TRANSITION_SIA.OBJECT',
  ])('accepts operation %s', (op) => {
    expect(row(line({ op })).operation).toBe(op);
  });
  it('falls back to positions for an operation of another shape', () => {
    expect(row(line({ op: 'Rest.Get.Object' })).operation).toBe('Rest.Get.Object');
  });
  it('accepts IPv6 remote IPs, UUID request IDs and host headers with ports', () => {
    const r = row(
      line({
        ip: '2001:db8::8a2e:370:7334',
        id: '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
        trailing: ['-', 'h', 'SigV4', 'c', 'AuthHeader', 'example-logs.s3.amazonaws.com:443', 'TLSv1.2'],
      }),
    );
    expect(r.remoteip).toBe('2001:db8::8a2e:370:7334');
    expect(r.requestid).toBe('3f2504e0-4f89-11d3-9a0c-0305e82c3301');
    expect(r.endpoint).toBe('example-logs.s3.amazonaws.com:443');
  });
  it('keeps the key raw (still URL-encoded)', () => {
    expect(row(line({ key: 'date_%253D2021-03-14/a+b%20c' })).key).toBe('date_%253D2021-03-14/a+b%20c');
  });
});

describe('parseLine: numbers', () => {
  it('reads object sizes beyond 2^32 exactly', () => {
    const r = row(line({ size: '422868123111', bytes: '9007199254740991' }));
    expect(r.objectsize).toBe(422868123111);
    expect(r.bytessent).toBe(Number.MAX_SAFE_INTEGER);
  });
  it.each([
    ['status', 'httpstatus', '2OO'],
    ['bytes', 'bytessent', '-1'],
    ['size', 'objectsize', '1e6'],
    ['total', 'totaltime', '9007199254740992'],
    ['turn', 'turnaroundtime', '0x10'],
    ['bytes', 'bytessent', '12.5'],
  ] as const)('rejects %s=%s', (part, column, value) => {
    expect(reason(line({ [part]: value }))).toBe(`bad_number:${column}`);
  });
  it('accepts 0', () => {
    expect(row(line({ bytes: '0', size: '0' })).objectsize).toBe(0);
  });
});

describe('parseLine never throws', () => {
  it.each([
    '"',
    '[',
    ']',
    '" "',
    '- - [ ] - - - - - - - - - - - - -',
    `${OWNER} b [06/Feb/2019:00:00:38 +0000]`,
    `${OWNER} b [06/Feb/2019:00:00:38 +0000] 1.2.3.4 - ID REST.GET.OBJECT k "GET / HTTP/1.1`,
    `${OWNER} b [06/Feb/2019:00:00:38 +0000] 1.2.3.4 - ID REST.GET.OBJECT k "GET / HTTP/1.1" 200 - 1 1 1 1 "`,
    '\uFFFD\uFFFD\uFFFD',
    '\u0000'.repeat(100),
  ])('on %j', (l) => {
    expect(() => parseLine(l)).not.toThrow();
    expect(parseLine(l).ok).toBe(false);
  });
});
