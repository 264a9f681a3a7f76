import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatLine,
  parseLine,
  readLogLines,
  s3TimeToIso,
  type AccessLogRow,
} from '../../../shared/access-log/index.ts';

const OPERATION_SHAPE = /^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+){2,}$/;
const ascii = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+%&?@,;()[]{}*!$'~".split('');
/** A printable grapheme (any script, emoji, U+FFFD) that is not a space, quote or control char. */
const unicodeChar = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }).filter((c) => !/[\s"\p{Cc}]/u.test(c));
const tokenChar = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ascii) }, { weight: 1, arbitrary: unicodeChar });
/** One unquoted field: no spaces, no quotes, not `-` (that is null). */
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 24 }).filter((t) => t !== '-');
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 3 });
const wordNotOperation = token.filter((w) => !OPERATION_SHAPE.test(w));

/** Free text for quoted fields: quotes, spaces, unicode, `-`. */
const quotedChar = fc.oneof(
  { weight: 6, arbitrary: tokenChar },
  { weight: 2, arbitrary: fc.constantFrom(' ', '"', '-') },
);
const freeText = fc.string({ unit: quotedChar, minLength: 1, maxLength: 40 }).filter((t) => t !== '-');
// The one ambiguity of the format: a Referer holding `"` + spaces + `"` (or `-` + space) reads as
// the start of the User-Agent. S3 cannot tell us which it was, so such values are not generated.
const referrer = freeText.filter((t) => !/" +("|-( |$))/.test(`${t}" `) && !/" +$/.test(t));

const operation = fc.oneof(
  fc.constantFrom(
    'REST.GET.OBJECT',
    'REST.PUT.OBJECT',
    'S3.COMPUTE.OBJECT.CHECKSUM',
    'WEBSITE.GET.OBJECT',
    'BATCH.DELETE.OBJECT',
    'SOAP.PUT.OBJECT',
    'S3.EXPIRE.OBJECT',
    'REST.COPY.OBJECT_GET',
  ),
  fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}(\.[A-Z][A-Z0-9_]{0,8}){2,3}$/),
);
const requester = fc.oneof(
  token.filter((t) => !t.startsWith('"')),
  // CloudFront origin access identities and other requesters with spaces.
  fc.array(wordNotOperation, { minLength: 2, maxLength: 5 }).map((ws) => ws.join(' ')),
);
const requestUri = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('GET', 'PUT', 'HEAD', 'POST', 'DELETE', 'OPTIONS'),
      fc.string({ unit: fc.oneof(tokenChar, fc.constant('"')), minLength: 1, maxLength: 40 }),
      fc.constantFrom('1.0', '1.1', '2.0'),
    )
    .map(([m, p, v]) => `${m} /${p} HTTP/${v}`),
  fc.tuple(fc.constantFrom('GET', 'BREW'), token).map(([m, p]) => `${m} /${p}`),
);
const isoSecond = fc
  .integer({ min: Date.UTC(1995, 0, 1), max: Date.UTC(2099, 11, 31) })
  .map((ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'));

/** A row as the parser produces it from a line of `fields` fields (17..30). */
const row: fc.Arbitrary<AccessLogRow> = fc
  .record({
    fields: fc.integer({ min: 17, max: 30 }),
    bucketowner: token,
    bucket_name: token,
    requestdatetime: isoSecond,
    remoteip: nullable(token),
    requester: nullable(requester),
    requestid: nullable(wordNotOperation.filter((t) => !t.startsWith('"'))),
    operation,
    key: nullable(token),
    request_uri: nullable(requestUri),
    httpstatus: nullable(fc.integer({ min: 100, max: 599 })),
    errorcode: nullable(token),
    bytessent: nullable(fc.maxSafeNat()),
    objectsize: nullable(fc.maxSafeNat()),
    totaltime: nullable(fc.nat()),
    turnaroundtime: nullable(fc.nat()),
    referrer: nullable(referrer),
    useragent: nullable(freeText),
    trailing: fc.array(nullable(token), { minLength: 8, maxLength: 8 }),
    aclrequired: fc.boolean(),
    sourceregion: nullable(token),
    extra: fc.array(fc.oneof(token, fc.constant('-')), { minLength: 1, maxLength: 3 }),
  })
  .map(({ fields, trailing, aclrequired, sourceregion, extra, ...head }) => {
    const present = (n: number) => fields >= n; // field n (1-based) exists in the line
    const t = (n: number) => (present(n) ? trailing[n - 18]! : null);
    const extrafields = fields > 27 ? extra.slice(0, fields - 27).join(' ') : null;
    return {
      ...head,
      versionid: t(18),
      hostid: t(19),
      sigv: t(20),
      ciphersuite: t(21),
      authtype: t(22),
      endpoint: t(23),
      tlsversion: t(24),
      accesspointarn: t(25),
      aclrequired: present(26) ? aclrequired : null,
      sourceregion: present(27) ? sourceregion : null,
      extrafields: extrafields === '-' ? null : extrafields,
    };
  });

describe('formatLine → parseLine round trip (fast-check)', () => {
  it('gives back the same row', () => {
    fc.assert(
      fc.property(row, (r) => {
        const line = formatLine(r);
        const parsed = parseLine(line);
        if (!parsed.ok) throw new Error(`rejected (${parsed.reason}): ${line}`);
        expect(parsed.row).toEqual(r);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseLine never throws (fast-check)', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        const r = parseLine(s);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('on valid lines cut, spliced and sprinkled with quotes', () => {
    const mutation = fc.tuple(row, fc.nat(), fc.nat(), fc.constantFrom('"', ' ', '-', '" "', '[', ']', '\uFFFD', ''));
    fc.assert(
      fc.property(mutation, ([r, a, b, insert]) => {
        const line = formatLine(r);
        const i = a % (line.length + 1);
        const j = i + (b % 8);
        const mutated = line.slice(0, i) + insert + line.slice(j);
        const res = parseLine(mutated);
        if (res.ok) expect(typeof res.row.requestdatetime).toBe('string');
        else expect(res.reason).toMatch(/^[a-z_]+(:[a-z]+)?$/);
      }),
      { numRuns: 3000 },
    );
  });

  it('readLogLines on arbitrary bytes yields rows or rejects, never throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 50 }), async (bytes, size) => {
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += size) chunks.push(Buffer.from(bytes.subarray(i, i + size)));
        // A random prefix of 1f 8b would be (invalid) gzip: that is an input error by design.
        if (bytes[0] === 0x1f && bytes[1] === 0x8b) return;
        for await (const p of readLogLines(Readable.from(chunks))) expect(p.line).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('s3TimeToIso (fast-check)', () => {
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  it('applies any offset like Date arithmetic does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1990, 0, 2), max: Date.UTC(2098, 11, 30) }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (ms, offsetMin) => {
          const utc = Math.floor(ms / 1000) * 1000;
          const local = new Date(utc + offsetMin * 60_000); // wall clock at that offset
          const sign = offsetMin < 0 ? '-' : '+';
          const off = Math.abs(offsetMin);
          const text =
            `${pad(local.getUTCDate())}/${MONTHS[local.getUTCMonth()]}/${local.getUTCFullYear()}:` +
            `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ` +
            `${sign}${pad(Math.floor(off / 60))}${pad(off % 60)}`;
          expect(s3TimeToIso(text)).toBe(new Date(utc).toISOString().replace('.000Z', 'Z'));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
