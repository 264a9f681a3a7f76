/**
 * The memory budget holds under hostile input (issue 12, item 2): the cases that crashed a 512 MB
 * function, in one batch, in a child process whose heap is limited as such a function's is.
 * No crash, and every line of every object is a row or a reject.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateText } from '../../../local/sample/lines.ts';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memory-child.ts');
/** A 512 MB function: V8's old space gets well under that; a quarter is left for code, buffers and new space. */
const HEAP_MB = 384;
const BUCKET = 'memory-budget-logs';

let aws: AwsLocal;
beforeAll(async () => {
  aws = await startAwsLocal();
  await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => aws?.stop());

async function put(key: string, body: Buffer): Promise<{ key: string; size: number; etag: string }> {
  const r = await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return { key, size: body.length, etag: r.ETag!.replace(/"/g, '') };
}

function runChild(
  objects: Array<{ key: string; size: number; etag: string }>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [
      `--max-old-space-size=${HEAP_MB}`,
      '--import',
      'tsx',
      CHILD,
      JSON.stringify({ endpoint: aws.endpoint, bucket: BUCKET, objects }),
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('memory budget', () => {
  it('short-line objects, a gzip bomb of short lines and ten large gzip objects, in one batch: no crash, every line a row or a reject', async () => {
    const expected = new Map<string, number>();
    const objects = [];
    // 7 MB plain object of 2-byte lines (inside the old 8 MiB budget by stored size).
    const shortLines = 3_500_000;
    objects.push(await put('logs/short-lines.log', Buffer.from('x\n'.repeat(shortLines))));
    expected.set('logs/short-lines.log', shortLines);
    // A gzip bomb of short lines: ~10 KB stored, 10 MB decoded.
    const bombLines = 5_000_000;
    objects.push(await put('logs/bomb.gz', gzipSync(Buffer.from('y\n'.repeat(bombLines)), { level: 9 })));
    expected.set('logs/bomb.gz', bombLines);
    // Ten gzip objects of 7.7 MB decoded each.
    const text = generateText(7_700_000);
    const lines = text.split('\n').filter((l) => l.length > 0).length;
    const gz = gzipSync(Buffer.from(text));
    for (let i = 0; i < 10; i++) {
      objects.push(await put(`logs/large-${i}.gz`, gz));
      expected.set(`logs/large-${i}.gz`, lines);
    }

    const r = await runChild(objects);
    expect(r.stderr).not.toMatch(/heap out of memory|allocation failed/i);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      response: { batchItemFailures: unknown[] };
      counts: Record<string, { lines: number; rows: number; rejects: number; how: string }>;
      peakHeapMb: number;
    };
    expect(out.response.batchItemFailures).toEqual([]);
    for (const [key, n] of expected) {
      const c = out.counts[key]!;
      expect(c, key).toBeDefined();
      expect(c.lines, key).toBe(n);
      expect(c.rows + c.rejects, key).toBe(n);
    }
    expect(out.counts['logs/short-lines.log']!.how).toBe('streamed');
    expect(out.counts['logs/bomb.gz']!.how).toBe('streamed');
  }, 300_000);
});
