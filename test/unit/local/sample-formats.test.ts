import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSample } from '../../../cli/sample.ts';
import { generateSample } from '../../../local/sample/index.ts';
import { sampleObjects } from '../../../local/sample/vended.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const walk = (d: string): string[] =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)],
  );

describe('s3-access-logs sample', () => {
  it('writes the same sample objects once per format, JSON and Parquet under vended-delivery keys', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sample-formats-'));
    dirs.push(dir);
    const sample = generateSample({ seed: '5', days: 1, prefix: '' });
    const out = await writeSample(dir, { formats: ['text', 'json', 'parquet'], seed: '5', days: 1 });
    expect(out).toEqual({ files: sample.objects.length * 3, rows: sample.truth.rows * 3 });
    const files = walk(dir).map((f) => path.relative(dir, f));
    expect(files.filter((f) => f.startsWith('text/'))).toHaveLength(sample.objects.length);
    expect(
      files.filter((f) =>
        /^json\/AWSLogs\/\d{12}\/S3ServerAccessLogs\/[a-z0-9-]+\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+\.json\.gz$/.test(f),
      ),
    ).toHaveLength(sample.objects.length);
    expect(files.filter((f) => f.startsWith('parquet/') && f.endsWith('.parquet'))).toHaveLength(sample.objects.length);
    for (const o of sampleObjects(sample, 'parquet', ''))
      expect(existsSync(path.join(dir, 'parquet', o.key))).toBe(true);
  });
});
