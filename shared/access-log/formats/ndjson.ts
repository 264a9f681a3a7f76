/**
 * Newline-delimited JSON records (plain or gzip) → numbered ParsedLines, streaming: memory stays
 * bounded by the chunk size and the longest line. A line that is not JSON is a `bad_json` reject,
 * a JSON value that is not an object `not_a_record`; neither stops the object. A damaged gzip object
 * loads its decodable records, then one `truncated_gzip`/`corrupt_gzip` reject (raw: the record it
 * cut), as text objects do (gunzip.ts).
 */
import { StringDecoder } from 'node:string_decoder';
import type { ParsedLine } from '../columns.ts';
import { formatLine } from '../format-line.ts';
import { type GzipCorruption, gunzipped } from '../gunzip.ts';
import { MAX_LINE_CHARS } from '../read-lines.ts';
import { mapRecord } from './vended-record.ts';
import type { RecordObserver } from './observer.ts';

/** One JSON line → a ParsedLine; `asText` renders accepted records as the equivalent text line. */
export function jsonLine(
  lineNo: number,
  raw: string,
  observer: RecordObserver | undefined,
  asText: boolean,
): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { line: lineNo, raw, result: { ok: false, reason: 'bad_json' } };
  }
  const mapped = mapRecord(value);
  if (mapped.unknownVersion !== undefined) observer?.unknownSchemaVersion(mapped.unknownVersion);
  return { line: lineNo, raw: asText && mapped.result.ok ? formatLine(mapped.result.row) : raw, result: mapped.result };
}

export async function* readNdjson(
  bytes: AsyncIterable<Uint8Array>,
  gzip: boolean,
  observer?: RecordObserver,
  asText = false,
): AsyncGenerator<ParsedLine> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNo = 0;
  let first = true;
  const emit = function* (raw: string): Generator<ParsedLine> {
    lineNo++;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (raw.trim().length === 0) return;
    if (raw.length > MAX_LINE_CHARS) {
      yield { line: lineNo, raw: raw.slice(0, MAX_LINE_CHARS), result: { ok: false, reason: 'line_too_long' } };
      return;
    }
    yield jsonLine(lineNo, raw, observer, asText);
  };
  const state: { corruption?: GzipCorruption } = {};
  for await (const chunk of gzip ? gunzipped(bytes, state) : bytes) {
    let text = decoder.write(chunk as Buffer);
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      yield* emit(carry.length > 0 ? carry + piece : piece);
      carry = '';
      start = nl + 1;
    }
    if (start < text.length) {
      // An overlong line is cut here, so memory stays bounded; it is still counted as one line.
      carry = (carry + text.slice(start)).slice(0, MAX_LINE_CHARS + 1);
    }
  }
  const tail = carry + decoder.end();
  if (state.corruption)
    yield { line: lineNo + 1, raw: tail.slice(0, MAX_LINE_CHARS), result: { ok: false, reason: state.corruption } };
  else if (tail.length > 0) yield* emit(tail);
}
