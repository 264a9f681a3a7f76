import { Readable } from 'node:stream';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS, readLogLines, type ParsedLine } from '../../../shared/access-log/index.ts';

const L1 =
  'ownerid1 bucket-a [14/Mar/2024:09:26:53 +0000] 198.51.100.7 - Q8D3K2M1ZX7P4R5T REST.GET.OBJECT a.txt ' +
  '"GET /a.txt HTTP/1.1" 200 - 10 10 5 4 "-" "curl/8.5.0" - hostid1= SigV4 TLS_AES_128_GCM_SHA256 AuthHeader ' +
  'bucket-a.s3.amazonaws.com TLSv1.3 - -';
const L2 = L1.replace('a.txt', 'b-\u00e9t\u00e9.txt').replace('curl/8.5.0', 'Bücher/1.0 \u{1F600}');

async function collect(source: AsyncIterable<Uint8Array> | Readable): Promise<ParsedLine[]> {
  const out: ParsedLine[] = [];
  for await (const p of readLogLines(source)) out.push(p);
  return out;
}
/** Yields the bytes in the given chunk sizes (cycled), to split lines and characters anywhere. */
async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = sizes[k++ % sizes.length]!;
    yield bytes.subarray(i, i + n);
    i += n;
  }
}
const summary = (ps: ParsedLine[]) => ps.map((p) => [p.line, p.result.ok ? p.result.row.key : p.result.reason]);

describe('readLogLines', () => {
  it('numbers lines from 1 and parses each', async () => {
    const ps = await collect(Readable.from([Buffer.from(`${L1}\n${L2}\n`)]));
    expect(summary(ps)).toEqual([
      [1, 'a.txt'],
      [2, 'b-\u00e9t\u00e9.txt'],
    ]);
    expect(ps[1]!.raw).toBe(L2);
  });

  it('handles lines and multi-byte characters split across chunks, at every split size', async () => {
    const bytes = Buffer.from(`${L1}\n${L2}\n${L1}`);
    for (const sizes of [[1], [2], [3], [7, 1], [64], [bytes.length]]) {
      const ps = await collect(chunked(bytes, sizes));
      expect(summary(ps), `chunks ${sizes}`).toEqual([
        [1, 'a.txt'],
        [2, 'b-\u00e9t\u00e9.txt'],
        [3, 'a.txt'],
      ]);
      expect(ps[1]!.result.ok && ps[1]!.result.row.useragent).toBe('Bücher/1.0 \u{1F600}');
    }
  });

  it('strips a BOM, \\r\\n, and reads a last line without newline', async () => {
    const ps = await collect(chunked(Buffer.from(`\uFEFF${L1}\r\n${L2}`), [1]));
    expect(summary(ps)).toEqual([
      [1, 'a.txt'],
      [2, 'b-\u00e9t\u00e9.txt'],
    ]);
    expect(ps[0]!.raw).toBe(L1);
  });

  it('skips blank lines but counts them', async () => {
    const ps = await collect(Readable.from([Buffer.from(`\n${L1}\n\r\n   \n${L2}\n\n`)]));
    expect(summary(ps)).toEqual([
      [2, 'a.txt'],
      [5, 'b-\u00e9t\u00e9.txt'],
    ]);
  });

  it('gunzips transparently (by magic bytes), also when split after the first byte', async () => {
    const gz = gzipSync(Buffer.from(`${L1}\n${L2}\n`));
    expect(summary(await collect(Readable.from([gz])))).toEqual([
      [1, 'a.txt'],
      [2, 'b-\u00e9t\u00e9.txt'],
    ]);
    expect(summary(await collect(chunked(gz, [1, 5, 100])))).toHaveLength(2);
  });

  it('reads concatenated gzip members (as S3 tools write)', async () => {
    const gz = Buffer.concat([gzipSync(Buffer.from(`${L1}\n`)), gzipSync(Buffer.from(`${L2}\n`))]);
    expect(summary(await collect(Readable.from([gz])))).toEqual([
      [1, 'a.txt'],
      [2, 'b-\u00e9t\u00e9.txt'],
    ]);
  });

  it('treats a lone \\r as a line end, also mixed with \\r\\n and \\n and split across chunks', async () => {
    const bytes = Buffer.from(`${L1}\r${L2}\r\n${L1}\n\r${L2}\r`);
    for (const sizes of [[1], [2], [L1.length + 1], [L1.length], [bytes.length]]) {
      const ps = await collect(chunked(bytes, sizes));
      // Line 4 is the blank line between \n and \r: skipped, still counted.
      expect(summary(ps), `chunks ${sizes}`).toEqual([
        [1, 'a.txt'],
        [2, 'b-\u00e9t\u00e9.txt'],
        [3, 'a.txt'],
        [5, 'b-\u00e9t\u00e9.txt'],
      ]);
      expect(ps[0]!.result.ok && ps[0]!.result.row.extrafields).toBe(null);
      expect(ps.every((p) => !p.raw.includes('\r'))).toBe(true);
    }
  });

  it('reads the decodable lines of a truncated gzip and records the cut as a truncated_gzip reject', async () => {
    const text = `${Array.from({ length: 400 }, (_, i) => (i % 2 ? L1 : L2)).join('\n')}\n`;
    const gz = gzipSync(Buffer.from(text));
    const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
    const ps = await collect(chunked(cut, [4096]));
    const last = ps.at(-1)!;
    expect(last.result).toEqual({ ok: false, reason: 'truncated_gzip' });
    expect(ps.slice(0, -1).every((p) => p.result.ok)).toBe(true);
    expect(ps.length).toBeGreaterThan(100);
    // Every line before the cut, in order, then the cut one (its decodable start as raw).
    expect(ps.slice(0, -1).map((p) => p.line)).toEqual(Array.from({ length: ps.length - 1 }, (_, i) => i + 1));
    expect(
      text.startsWith(
        ps
          .slice(0, -1)
          .map((p) => `${p.raw}\n`)
          .join('') + last.raw,
      ),
    ).toBe(true);
  });

  it('records trailing garbage after a gzip member as a corrupt_gzip reject after its lines', async () => {
    const member = gzipSync(Buffer.from(`${L1}\n${L2}\n`));
    const garbage = Buffer.from('not gzip at all');
    expect(summary(await collect(Readable.from([member, garbage])))).toEqual([
      [1, 'a.txt'],
      [2, 'b-\u00e9t\u00e9.txt'],
      [3, 'corrupt_gzip'],
    ]);
    // In the same read as the member's end: the same lines (recovered from the failed zlib call).
    expect(summary(await collect(Readable.from([Buffer.concat([member, garbage])])))).toEqual([
      [1, 'a.txt'],
      [2, 'b-\u00e9t\u00e9.txt'],
      [3, 'corrupt_gzip'],
    ]);
    // Garbage inside a member may still read as deflate data until the input ends: either reason.
    const garbled = Buffer.concat([gzipSync(Buffer.from(`${L1}\n`.repeat(50))).subarray(0, 20), Buffer.alloc(40, 7)]);
    const last = (await collect(Readable.from([garbled]))).at(-1)!;
    expect(last.result.ok ? 'ok' : last.result.reason).toMatch(/^(corrupt|truncated)_gzip$/);
  });

  // The whole object in one source chunk, so the damage arrives in the same zlib call as the end
  // of the decodable data, whose output zlib drops on error: every line that the bytes before the
  // damage decode to must still be read, in order, then the reject.
  const manyLines = Array.from({ length: 3000 }, (_, i) =>
    L1.replace('a.txt', `obj-${i}-${((i * 2654435761) >>> 0).toString(36)}.txt`),
  );
  const manyGz = gzipSync(Buffer.from(`${manyLines.join('\n')}\n`));
  const decodableLines = (prefix: Buffer): string[] => {
    const text = gunzipSync(prefix, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
    return text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .slice(0, -1);
  };
  const flip = (at: number) => {
    const b = Buffer.from(manyGz);
    b[at] = b[at]! ^ 0x5a;
    return b;
  };
  // Half the lines, sync-flushed (byte-aligned, member not ended), then a block header of the
  // reserved type 3 (an immediate Z_DATA_ERROR whatever zlib build compressed it), then more data.
  const firstHalf = gzipSync(Buffer.from(`${manyLines.slice(0, 1500).join('\n')}\n`), {
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  const badBlock = Buffer.concat([firstHalf, Buffer.from([0x07]), manyGz.subarray(10)]);
  it.each([
    ['truncated', manyGz.subarray(0, manyGz.length - 2000), manyGz.subarray(0, manyGz.length - 2000), 'truncated_gzip'],
    ['trailing garbage', Buffer.concat([manyGz, Buffer.from('not gzip at all')]), manyGz, 'corrupt_gzip'],
    ['an invalid deflate block mid-stream', badBlock, firstHalf, 'corrupt_gzip'],
    ['a corrupt CRC', flip(manyGz.length - 6), manyGz, 'corrupt_gzip'],
  ])(
    'reads every line decodable before the damage when it is in the same chunk: %s',
    async (_name, body, before, reason) => {
      const expected = decodableLines(before);
      expect(expected.length).toBeGreaterThan(500);
      const ps = await collect(Readable.from([body]));
      expect(ps.slice(0, expected.length).map((p) => p.raw)).toEqual(expected);
      expect(ps.at(-1)!.result).toEqual({ ok: false, reason });
      expect(ps.map((p) => p.line)).toEqual(ps.map((_, i) => i + 1));
    },
  );

  it('still throws when the source itself fails (an S3 body cut mid-stream is retried, not rejected)', async () => {
    const gz = gzipSync(Buffer.from(`${L1}\n`.repeat(500)));
    async function* cut(): AsyncGenerator<Uint8Array> {
      yield gz.subarray(0, 100);
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    await expect(collect(cut())).rejects.toThrow(/socket hang up/);
  });

  it('decodes invalid UTF-8 with U+FFFD and still parses the line', async () => {
    const bytes = Buffer.concat([
      Buffer.from(`${L1.slice(0, L1.indexOf('curl/8.5.0'))}bad-`),
      Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]),
      Buffer.from(`-x" - h= SigV4 c AuthHeader e TLSv1.3\n${L1}\n`),
    ]);
    const replaced = bytes.toString('utf8').split('\n')[0]!;
    const ps = await collect(chunked(bytes, [3]));
    expect(ps).toHaveLength(2);
    expect(ps[0]!.result.ok).toBe(true);
    expect(ps[0]!.raw).toContain('\uFFFD');
    expect(ps[0]!.result.ok && ps[0]!.result.row.useragent).toBe(replaced.split('"').slice(-2, -1)[0]);
    expect(ps[0]!.result.ok && ps[0]!.result.row.useragent).toMatch(/^bad-\uFFFD.*-x$/);
  });

  it('turns garbage lines into rejects, never exceptions', async () => {
    const ps = await collect(Readable.from([Buffer.from(`not a log line\n${L1}\n\u0000\u0001\u0002\n`)]));
    expect(summary(ps)).toEqual([
      [1, 'bad_time'],
      [2, 'a.txt'],
      [3, 'too_few_fields'],
    ]);
  });

  it('cuts a line longer than MAX_LINE_CHARS and rejects it as line_too_long', async () => {
    const long = 'x'.repeat(MAX_LINE_CHARS + 10);
    const ps = await collect(chunked(Buffer.from(`${long}\n${L1}\n${long}`), [65536]));
    expect(summary(ps)).toEqual([
      [1, 'line_too_long'],
      [2, 'a.txt'],
      [3, 'line_too_long'],
    ]);
    expect(ps[0]!.raw.length).toBe(MAX_LINE_CHARS);
  });

  it('reads an empty source and a source of only a BOM', async () => {
    expect(await collect(Readable.from([]))).toEqual([]);
    expect(await collect(Readable.from([Buffer.from('\uFEFF')]))).toEqual([]);
  });
});
