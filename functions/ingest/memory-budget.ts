/**
 * The batch's memory budget for buffered objects, in bytes of heap their parsed lines take.
 *
 * What a buffered line costs was measured (node --expose-gc, heapUsed after GC, 200,000 lines,
 * bind arrays as RowBuilder makes them): a typical 700-character line ~810 B as a parsed row
 * (~1.15 B per character plus ~110 B), ~100 B per line of overhead in raw mode or as a reject,
 * and ~2.6 B per character for the fields of a line with a character outside Latin-1 (V8 then
 * stores it two bytes per character). The line itself is held too (a slice of the decoded text,
 * 1 or 2 B per character). `lineCost` charges 160 B + 3 B per character: above the measured cost
 * of every Latin-1 line, short or long, parsed, raw or rejected; a line of non-Latin-1 text can
 * cost up to ~1.5x its charge (rare in S3 logs, whose keys are URL-encoded).
 *
 * One budget is shared by every concurrent read of the batch and charged line by line, so the
 * sum held never exceeds it: an object whose next line does not fit gives back what it took and
 * is streamed instead (a stream holds one insert chunk at a time, whatever the object's size).
 */
export const LINE_OVERHEAD_BYTES = 160;
export const BYTES_PER_CHAR = 3;

/** Estimated heap bytes one buffered line (row, reject or staged line) holds. */
export const lineCost = (raw: string): number => LINE_OVERHEAD_BYTES + BYTES_PER_CHAR * raw.length;

export class MemoryBudget {
  constructor(private left: number) {}

  get available(): number {
    return this.left;
  }

  /** Takes `bytes` if they fit; false (nothing taken) otherwise. */
  take(bytes: number): boolean {
    if (bytes > this.left) return false;
    this.left -= bytes;
    return true;
  }

  giveBack(bytes: number): void {
    this.left += bytes;
  }
}
