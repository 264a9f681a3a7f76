/**
 * Bytes of a log object → numbered, parsed lines, streaming: memory stays bounded by the chunk
 * size and the longest line, whatever the object size.
 *
 * Handles gzip (detected by its magic bytes, not the key name), a UTF-8 BOM, `\n`, `\r\n` and lone
 * `\r` line ends, lines split across chunks (including inside a multi-byte character or between
 * `\r` and `\n`), a last line without a newline, and invalid UTF-8 (decoded with U+FFFD so the
 * line is still parsed or rejected). Blank lines are skipped but still counted, so line numbers
 * match the file.
 *
 * A gzip stream that ends early, or holds bytes that are not gzip after (or inside) a member, is
 * not an exception: its decodable lines are read, and one more line, a reject with reason
 * `truncated_gzip` or `corrupt_gzip` (raw: the incomplete line it cut, if any), records the
 * corruption, so the object completes instead of failing on every attempt. An error of the
 * source itself (an S3 body cut mid-stream) still throws: retrying it can succeed.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ParsedLine, ParseResult } from './columns.ts';
import { type GzipCorruption, gunzipped } from './gunzip.ts';
import { parseLine } from './parse-line.ts';

/** Longer lines are cut to this many characters and rejected as `line_too_long`. */
export const MAX_LINE_CHARS = 1 << 20;
const LINE_TOO_LONG: ParseResult = Object.freeze({ ok: false, reason: 'line_too_long' }) as ParseResult;

type ByteSource = Readable | AsyncIterable<Uint8Array>;

async function* bytesOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  }
}

/**
 * The source's bytes, gunzipped when they start with the gzip magic 1f 8b. A gzip stream that
 * cannot be decoded to its end stops the output after its decodable bytes and sets
 * `state.corruption` (gunzip.ts).
 */
async function* plainBytes(source: ByteSource, state: { corruption?: GzipCorruption }): AsyncGenerator<Uint8Array> {
  const it = bytesOf(source)[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headLength = 0;
  let done = false;
  while (headLength < 2) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    if (r.value.length === 0) continue;
    head.push(r.value);
    headLength += r.value.length;
  }
  const first = head.length === 0 ? undefined : head.length === 1 ? head[0]! : Buffer.concat(head);
  const gzip = first !== undefined && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  if (!gzip) {
    if (first !== undefined) yield first;
    if (!done) {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        yield r.value;
      }
    }
    return;
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield first!;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  yield* gunzipped(rest(), state);
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 11 && c !== 12) return false;
  }
  return true;
}

/**
 * Splits decoded text into lines across chunks and parses them into a caller-owned batch: one
 * plain loop per chunk, no generator per line (the async generator then yields the batch).
 */
class LineSplitter {
  private carry = '';
  private overlong = false; // the current line passed MAX_LINE_CHARS; the rest of it is dropped
  private lineNo = 0;
  private first = true;
  private afterCr = false; // the last chunk ended with \r: a \n starting the next one is part of it

  private emit(raw: string, tooLong: boolean, out: ParsedLine[]): void {
    this.lineNo++;
    if (tooLong) {
      out.push({ line: this.lineNo, raw, result: LINE_TOO_LONG });
      return;
    }
    if (raw.length === 0 || isBlank(raw)) return;
    out.push({ line: this.lineNo, raw, result: parseLine(raw) });
  }

  push(text: string, out: ParsedLine[]): void {
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    // The \n of a \r\n split across chunks: the line already ended at the \r.
    if (this.afterCr && text.charCodeAt(0) === 10) start = 1;
    this.afterCr = false;
    // Positions of the next \n and \r at or after `start` (-1: none left in this chunk).
    let nl = text.indexOf('\n', start);
    let cr = text.indexOf('\r', start);
    for (;;) {
      if (nl !== -1 && nl < start) nl = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      const end = cr === -1 ? nl : nl === -1 ? cr : Math.min(nl, cr);
      if (end === -1) break;
      this.line(text, start, end, out);
      start = end + 1;
      if (end === cr) {
        if (start === text.length) this.afterCr = true;
        else if (text.charCodeAt(start) === 10) start++;
      }
    }
    if (start < text.length && !this.overlong) {
      this.carry = this.carry.length > 0 ? this.carry + text.slice(start) : text.slice(start);
      if (this.carry.length > MAX_LINE_CHARS) {
        this.carry = this.carry.slice(0, MAX_LINE_CHARS);
        this.overlong = true;
      }
    }
  }

  /** The line that ends at `end` (exclusive) of this chunk, with what was carried before it. */
  private line(text: string, start: number, end: number, out: ParsedLine[]): void {
    if (this.overlong) {
      this.overlong = false;
      this.emit(this.carry, true, out);
    } else if (this.carry.length > 0) {
      const line = this.carry + text.slice(start, end);
      if (line.length > MAX_LINE_CHARS) this.emit(line.slice(0, MAX_LINE_CHARS), true, out);
      else this.emit(line, false, out);
    } else if (end - start > MAX_LINE_CHARS) {
      this.emit(text.slice(start, start + MAX_LINE_CHARS), true, out);
    } else {
      this.emit(text.slice(start, end), false, out);
    }
    this.carry = '';
  }

  /** The last line; with `corruption`, it is the line the corruption cut, recorded as a reject. */
  end(out: ParsedLine[], corruption?: GzipCorruption): void {
    if (corruption) {
      this.lineNo++;
      out.push({
        line: this.lineNo,
        raw: this.carry,
        result: Object.freeze({ ok: false, reason: corruption }) as ParseResult,
      });
    } else if (this.overlong) this.emit(this.carry, true, out);
    else if (this.carry.length > 0) this.emit(this.carry, false, out);
    this.carry = '';
    this.overlong = false;
  }
}

/**
 * The parsed lines of `source`, one array per chunk read: consumers that handle lines in bulk (the
 * `parse` command) pay one await per chunk instead of one per line. The array is reused: read it
 * before asking for the next one.
 */
export async function* readLogLineBatches(source: ByteSource): AsyncGenerator<ParsedLine[]> {
  const decoder = new StringDecoder('utf8');
  const lines = new LineSplitter();
  const batch: ParsedLine[] = [];
  const state: { corruption?: GzipCorruption } = {};
  for await (const chunk of plainBytes(source, state)) {
    const text = decoder.write(chunk as Buffer);
    if (text.length === 0) continue;
    lines.push(text, batch);
    if (batch.length > 0) yield batch;
    batch.length = 0;
  }
  const tail = decoder.end();
  if (tail.length > 0) lines.push(tail, batch);
  lines.end(batch, state.corruption);
  if (batch.length > 0) yield batch;
}

export async function* readLogLines(source: ByteSource): AsyncGenerator<ParsedLine> {
  for await (const batch of readLogLineBatches(source)) {
    for (let i = 0; i < batch.length; i++) yield batch[i]!;
  }
}
