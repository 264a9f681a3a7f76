/**
 * A Parquet log object → numbered ParsedLines, one row group at a time (hyparquet), so what is
 * decoded at once is one row group, not the file.
 *
 * Parquet keeps its index in a footer at the end, so the file needs random access: its bytes are
 * kept in memory up to SPILL_BYTES and spilled to a temporary file beyond (Lambda's /tmp), which
 * hyparquet then reads by ranges. A file hyparquet cannot read (truncated, not Parquet after all)
 * becomes one reject naming the problem; a row group that fails to decode becomes one reject naming
 * its rows. Neither throws: bad data is a value.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
// The package's Node entry point (its `default` export condition) adds asyncBufferFromFile.
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
  type AsyncBuffer,
  type FileMetaData,
} from 'hyparquet';
import type { ParsedLine } from '../columns.ts';
import { formatLine } from '../format-line.ts';
import { mapRecord, toJson } from './vended-record.ts';
import type { RecordObserver } from './observer.ts';

/** Larger Parquet objects are spilled to a temporary file instead of held in memory. */
export const SPILL_BYTES = 32 * 1024 * 1024;

interface Held {
  file: AsyncBuffer;
  bytes: number;
  dispose(): Promise<void>;
}

function memoryBuffer(chunks: Buffer[]): AsyncBuffer {
  const all = Buffer.concat(chunks);
  return {
    byteLength: all.length,
    slice: (start, end) =>
      all.buffer.slice(all.byteOffset + start, all.byteOffset + (end ?? all.length)) as ArrayBuffer,
  };
}

async function hold(bytes: AsyncIterable<Uint8Array>, spillBytes: number): Promise<Held> {
  const it = bytes[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) return { file: memoryBuffer(chunks), bytes: length, dispose: async () => {} };
    chunks.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length));
    length += r.value.length;
    if (length > spillBytes) break;
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'parquet-'));
  const file = path.join(dir, 'object.parquet');
  async function* rest(): AsyncGenerator<Uint8Array> {
    for (const c of chunks.splice(0)) yield c;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      length += r.value.length;
      yield r.value;
    }
  }
  try {
    await pipeline(Readable.from(rest(), { objectMode: false }), createWriteStream(file));
    return {
      file: await asyncBufferFromFile(file),
      bytes: length,
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function message(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

export async function* readParquet(
  bytes: AsyncIterable<Uint8Array>,
  observer?: RecordObserver,
  spillBytes = SPILL_BYTES,
): AsyncGenerator<ParsedLine> {
  const held = await hold(bytes, spillBytes);
  try {
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(held.file);
    } catch (err) {
      const raw = `(Parquet object of ${held.bytes} bytes)`;
      yield { line: 1, raw, result: { ok: false, reason: `bad_parquet: ${message(err)}` } };
      return;
    }
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({ file: held.file, metadata, rowStart, rowEnd, rowFormat: 'object' });
      } catch (err) {
        const raw = `(Parquet rows ${rowStart + 1}-${rowEnd} of ${metadata.num_rows})`;
        yield { line: rowStart + 1, raw, result: { ok: false, reason: `bad_parquet: ${message(err)}` } };
        rowStart = rowEnd;
        continue;
      }
      for (let i = 0; i < rows.length; i++) {
        const mapped = mapRecord(rows[i]);
        if (mapped.unknownVersion !== undefined) observer?.unknownSchemaVersion(mapped.unknownVersion);
        // A row's raw is the text line it stands for (what raw mode stages, and a fair size for the
        // memory budget, cheaper than serialising the record); a reject keeps the record's JSON.
        const raw = mapped.result.ok ? formatLine(mapped.result.row) : toJson(rows[i]);
        yield { line: rowStart + i + 1, raw, result: mapped.result };
      }
      rowStart = rowEnd;
    }
  } finally {
    await held.dispose();
  }
}
