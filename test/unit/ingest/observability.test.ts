import { describe, expect, it } from 'vitest';
import { createMetrics, emptySummary, publishSummary } from '../../../functions/ingest/observability.ts';

/** Collects what Powertools writes to stdout (EMF documents, one JSON per line). */
function captureStdout(fn: () => void): string[] {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = original;
  }
  return lines;
}

describe('publishSummary', () => {
  it('emits the batch metrics and one ObjectsSkipped metric per reason as EMF', () => {
    const s = {
      ...emptySummary(3),
      objectsLoaded: 2,
      rows: 10,
      rejects: 1,
      bytes: 4096,
      durationMs: 120,
      roundTrips: 8,
      deliveryLagSeconds: 300,
    };
    s.skipped.duplicate = 1;
    s.skipped.missing = 2;
    const metrics = createMetrics(); // its Console writes to process.stdout, captured below
    const docs = captureStdout(() => publishSummary(metrics, s))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const batch = docs.find((d) => 'ObjectsLoaded' in d)!;
    expect(batch).toMatchObject({
      ObjectsLoaded: 2,
      Rows: 10,
      Rejects: 1,
      Bytes: 4096,
      BatchDuration: 120,
      SnowflakeRoundTrips: 8,
      DeliveryLag: 300,
      MessagesFailed: 0,
    });
    const names = (batch._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics[0]!;
    expect(names.Namespace).toBe('S3AccessLogs');
    const skipped = docs.filter((d) => 'ObjectsSkipped' in d).map((d) => [d.reason, d.ObjectsSkipped]);
    expect(skipped).toEqual([
      ['duplicate', 1],
      ['missing', 2],
    ]);
  });
});
