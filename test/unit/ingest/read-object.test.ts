import { describe, expect, it } from 'vitest';
import { counted } from '../../../functions/ingest/read-object.ts';

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of body) n += chunk.length;
  return n;
}

async function* chunks(...sizes: number[]) {
  for (const s of sizes) yield new Uint8Array(s);
}

describe('counted', () => {
  it('counts the bytes as they pass', async () => {
    const counter = { bytes: 0 };
    expect(await drain(counted(chunks(3, 4), counter, 7))).toBe(7);
    expect(counter.bytes).toBe(7);
  });

  it('fails a body that ends before its Content-Length, naming both sizes', async () => {
    await expect(drain(counted(chunks(3), { bytes: 0 }, 10))).rejects.toThrow(
      'The S3 body ended after 3 of its 10 bytes; the message will be retried.',
    );
  });

  it('trusts a body without a Content-Length', async () => {
    expect(await drain(counted(chunks(5), { bytes: 0 }))).toBe(5);
  });
});
