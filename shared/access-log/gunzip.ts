/**
 * Gunzip for log objects (text and NDJSON alike) that survives a damaged stream: a stream that ends
 * early, or holds bytes that are not gzip after (or inside) a member, stops the output and sets
 * `state.corruption` instead of throwing, so the caller can load the decodable lines and record one
 * reject. An error of the source itself (an S3 body cut mid-stream) still throws: retrying it can
 * succeed.
 *
 * On corrupt data zlib drops the output of the call that failed (up to one 16 KiB chunk of text
 * that was decodable before the bad byte). To recover it, the compressed input is kept while it is
 * small (RECOVERY_INPUT_BYTES compressed, RECOVERY_OUTPUT_BYTES decoded: holding a reference to
 * chunks already read costs nothing on the normal path); on failure, the longest prefix of it that
 * still decodes is found by bisection with the sync API (Z_SYNC_FLUSH: a prefix is not an error),
 * and what it decodes beyond what was already emitted is emitted. Larger objects may still lose up
 * to one zlib call's output before the damage.
 */
import { Readable } from 'node:stream';
import { constants, createGunzip, gunzipSync } from 'node:zlib';

/** Reject reasons for a gzip stream that cannot be decoded to its end. */
export type GzipCorruption = 'truncated_gzip' | 'corrupt_gzip';

/** Recovery bounds: ~20 sync inflations of at most this much, only when an object is damaged. */
const RECOVERY_INPUT_BYTES = 1 << 20;
const RECOVERY_OUTPUT_BYTES = 8 << 20;

/** zlib's error for input that ends inside a member (Z_BUF_ERROR) or is not valid gzip/deflate (Z_DATA_ERROR). */
function corruptionOf(err: unknown): GzipCorruption | undefined {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'Z_BUF_ERROR' ? 'truncated_gzip' : code === 'Z_DATA_ERROR' ? 'corrupt_gzip' : undefined;
}

/** What the first `length` bytes of `input` decode to, or undefined if zlib rejects them. */
function decodeSync(input: Buffer, length: number): Buffer | undefined {
  try {
    return gunzipSync(input.subarray(0, length), {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: RECOVERY_OUTPUT_BYTES + (1 << 20),
    });
  } catch {
    return undefined;
  }
}

/** Everything the longest decodable prefix of `input` decodes to (errors only grow with the prefix). */
export function decodablePrefix(input: Buffer): Buffer {
  let lo = 0;
  let hi = input.length;
  let best = decodeSync(input, hi);
  if (best !== undefined) return best;
  hi--;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const out = decodeSync(input, mid);
    if (out === undefined) hi = mid - 1;
    else {
      lo = mid;
      best = out;
    }
  }
  return best ?? Buffer.alloc(0);
}

export async function* gunzipped(
  source: AsyncIterable<Uint8Array>,
  state: { corruption?: GzipCorruption },
): AsyncGenerator<Uint8Array> {
  let kept: Uint8Array[] | undefined = [];
  let keptLength = 0;
  async function* keeping(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      if (kept !== undefined) {
        keptLength += chunk.length;
        if (keptLength > RECOVERY_INPUT_BYTES) kept = undefined;
        else kept.push(chunk);
      }
      yield chunk;
    }
  }
  const input = Readable.from(keeping(), { objectMode: false });
  const gunzip = createGunzip();
  let sourceFailed = false;
  let emitted = 0;
  input.on('error', (err) => {
    sourceFailed = true;
    gunzip.destroy(err);
  });
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      emitted += chunk.length;
      if (emitted > RECOVERY_OUTPUT_BYTES) kept = undefined;
      yield chunk;
    }
  } catch (err) {
    const corruption = sourceFailed ? undefined : corruptionOf(err);
    if (!corruption) throw err;
    state.corruption = corruption;
    if (kept !== undefined) {
      const decodable = decodablePrefix(Buffer.concat(kept));
      if (decodable.length > emitted) yield decodable.subarray(emitted);
    }
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}
