/**
 * The batch's memory budget for buffered objects, in bytes of heap their parsed lines take.
 *
 * `lineCost` charges 160 B + 3 B per character. Measured (`npm run bench:memory`,
 * bench/results/memory-per-line.json: heap after GC, 200,000 lines, bind arrays as RowBuilder makes
 * them, the line's own text included): a typical 700-character line costs ~1,510 B parsed and
 * ~800 B raw (charged 2,264 B), a 2-byte line ~108 B (charged 166 B), and a 700-character line
 * with a character outside Latin-1 (V8 then stores the text two bytes per character) ~2,256 B
 * (charged 2,269 B). The charge is at or above every measured cost.
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
