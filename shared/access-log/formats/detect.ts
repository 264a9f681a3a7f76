/**
 * Which format a log object is in, from its first bytes, never from its key or configuration (a
 * bucket may hold both during a migration):
 *  - Parquet: the magic `PAR1` at offset 0;
 *  - newline-delimited JSON records: the first non-blank character, after gunzip, is `{`;
 *  - otherwise the space-delimited text format (a text line starts with the bucket owner's ID,
 *    never with `{`).
 * The bytes read to decide are handed back in front of the rest, so nothing is consumed twice.
 */

import { decodablePrefix } from '../gunzip.ts';

export type LogFormat = 'text' | 'ndjson' | 'parquet';

export type ByteSource = AsyncIterable<Uint8Array | string>;

export interface Sniffed {
  format: LogFormat;
  gzip: boolean;
  /** Every byte of the object, the sniffed head included. */
  bytes: AsyncIterable<Uint8Array>;
}

/** Stop looking for the first character after this many bytes of head (all blank: call it text). */
const MAX_HEAD = 64 * 1024;

function firstChar(text: Uint8Array): number | undefined {
  let i = 0;
  if (text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf) i = 3; // UTF-8 BOM
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
  }
  return undefined;
}

/**
 * A damaged gzip head decodes to what precedes the damage, so its format is still detected. 8 KiB
 * of gzip decode to at most ~8 MiB, inside decodablePrefix's output bound, so a gzip bomb's head
 * costs one inflation.
 */
function decodedHead(head: Buffer, gzip: boolean): Uint8Array {
  return gzip ? decodablePrefix(head.subarray(0, 8192)) : head;
}

export async function sniff(source: ByteSource): Promise<Sniffed> {
  const it = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  let format: LogFormat | undefined;
  let gzip = false;
  while (format === undefined) {
    const r = await it.next();
    if (r.done) done = true;
    else {
      const chunk =
        typeof r.value === 'string'
          ? Buffer.from(r.value, 'utf8')
          : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
      if (chunk.length === 0) continue;
      chunks.push(chunk);
      length += chunk.length;
    }
    const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (head.length < 4 && !done) continue;
    if (head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) format = 'parquet';
    else {
      gzip = head[0] === 0x1f && head[1] === 0x8b;
      const c = firstChar(decodedHead(head, gzip));
      if (c !== undefined) format = c === 0x7b ? 'ndjson' : 'text';
      else if (done || length >= MAX_HEAD) format = 'text';
    }
  }
  async function* bytes(): AsyncGenerator<Uint8Array> {
    for (const c of chunks) yield c;
    chunks.length = 0;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : r.value;
    }
  }
  return { format, gzip, bytes: bytes() };
}
