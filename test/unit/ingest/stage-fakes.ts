/** Fakes for the ingest stages' unit tests: planned objects, and a line source that serves them from memory. */
import { parseLine } from '../../../shared/access-log/index.ts';
import type { PlannedObject } from '../../../functions/ingest/plan.ts';
import type { LineSource, OpenedLines } from '../../../functions/ingest/read-object.ts';

export const planned = (key: string, extra: Partial<PlannedObject> = {}): PlannedObject => ({
  id: key,
  target: { bucket: 'b', key, force: false },
  messageIds: [`msg-${key}`],
  ...extra,
});

export interface FakeObject {
  lines?: string[];
  contentLength?: number;
  missing?: boolean;
  /** Thrown while reading, after the lines. */
  error?: Error;
}

/** Serves each key's lines (bytes = characters read); records which keys were opened and destroyed. */
export function fakeSource(objects: Record<string, FakeObject>) {
  const opened: string[] = [];
  const destroyed: string[] = [];
  const source: LineSource = async (target) => {
    opened.push(target.key);
    const o = objects[target.key];
    if (!o || o.missing) return { kind: 'missing' };
    let bytes = 0;
    async function* lines() {
      let n = 0;
      for (const raw of o!.lines ?? []) {
        bytes += raw.length + 1;
        yield { line: ++n, raw, result: parseLine(raw) };
      }
      if (o!.error) throw o!.error;
    }
    const result: OpenedLines = {
      kind: 'ok',
      lines: lines(),
      bytes: () => bytes,
      destroy: () => void destroyed.push(target.key),
    };
    if (o.contentLength !== undefined) result.contentLength = o.contentLength;
    return result;
  };
  return { source, opened, destroyed };
}
