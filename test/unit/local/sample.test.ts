import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseLine, readLogLines } from '../../../shared/access-log/index.ts';
import { generateSample } from '../../../local/sample/index.ts';

const sample = generateSample();
const allLines = sample.objects.flatMap((o) => o.lines);
const rows = allLines.flatMap((l) => (l.row ? [l.row] : []));

describe('sample generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const again = generateSample();
    expect(again.objects.map((o) => [o.key, o.body])).toEqual(sample.objects.map((o) => [o.key, o.body]));
    expect(again.truth).toEqual(sample.truth);
    const other = generateSample({ seed: 'another seed' });
    expect(other.objects.map((o) => o.body).join('')).not.toBe(sample.objects.map((o) => o.body).join(''));
  });

  it('ground truth matches what the parser makes of every line', () => {
    let parsedRows = 0;
    let rejects = 0;
    for (const object of sample.objects) {
      let objectRows = 0;
      let objectRejects = 0;
      for (const line of object.lines) {
        const result = parseLine(line.raw);
        if (line.row === null) {
          expect(result.ok, `planted malformed line parsed: ${line.raw}`).toBe(false);
          objectRejects++;
        } else {
          expect(result).toEqual({ ok: true, row: line.row });
          objectRows++;
        }
      }
      expect([objectRows, objectRejects]).toEqual([object.rows, object.rejects]);
      expect(object.body).toBe(object.lines.map((l) => `${l.raw}\n`).join(''));
      parsedRows += objectRows;
      rejects += objectRejects;
    }
    expect(sample.truth).toMatchObject({
      objects: sample.objects.length,
      rows: parsedRows,
      rejects,
      lines: parsedRows + rejects,
    });
    expect(sample.truth.rejects).toBeGreaterThan(0);
    expect(sample.truth.rows).toBeGreaterThan(3000);
  });

  it('reads back identically through the streaming reader the ingest uses', async () => {
    const object = sample.objects.find((o) => o.rejects > 0)!;
    const seen = [];
    for await (const parsed of readLogLines(Readable.from([Buffer.from(object.body)]))) seen.push(parsed);
    expect(seen.map((p) => p.raw)).toEqual(object.lines.map((l) => l.raw));
    expect(seen.filter((p) => !p.result.ok)).toHaveLength(object.rejects);
  });

  it('names objects the way S3 names log objects, delivered after the requests they hold', () => {
    for (const object of sample.objects) {
      const m = /^logs\/(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9A-F]{16}$/.exec(object.key);
      expect(m, object.key).not.toBeNull();
      const delivered = Date.UTC(+m![1]!, +m![2]! - 1, +m![3]!, +m![4]!, +m![5]!, +m![6]!);
      for (const line of object.lines) {
        if (line.row) {
          expect(line.row.bucket_name).toBe(object.sourceBucket);
          expect(Date.parse(line.row.requestdatetime)).toBeLessThan(delivered);
        }
      }
    }
    expect(new Set(sample.objects.map((o) => o.key)).size).toBe(sample.objects.length);
    expect(new Set(sample.objects.map((o) => o.sourceBucket)).size).toBeGreaterThanOrEqual(4);
    const days = new Set(rows.map((r) => r.requestdatetime.slice(0, 10)));
    expect(days.size).toBe(3);
  });

  it('covers every operation family and kind of requester', () => {
    const ops = new Set(rows.map((r) => r.operation));
    for (const op of [
      'REST.GET.OBJECT',
      'REST.PUT.OBJECT',
      'REST.HEAD.OBJECT',
      'REST.DELETE.OBJECT',
      'REST.COPY.OBJECT',
      'REST.POST.UPLOADS',
      'REST.POST.UPLOAD',
      'REST.PUT.PART',
      'REST.GET.BUCKET',
      'BATCH.DELETE.OBJECT',
      'REST.POST.MULTI_OBJECT_DELETE',
      'S3.EXPIRE.OBJECT',
      'WEBSITE.GET.OBJECT',
    ]) {
      expect(ops, op).toContain(op);
    }
    const expire = rows.find((r) => r.operation === 'S3.EXPIRE.OBJECT')!;
    expect(expire).toMatchObject({
      remoteip: null,
      request_uri: null,
      httpstatus: null,
      useragent: null,
      sigv: null,
      endpoint: null,
    });
    expect(rows.some((r) => r.requester === null)).toBe(true);
    expect(rows.some((r) => r.requester?.includes('CloudFront Origin Access Identity '))).toBe(true);
    expect(rows.some((r) => r.requester?.startsWith('arn:aws:sts::444455556666:'))).toBe(true);
    expect(rows.some((r) => r.remoteip?.includes(':'))).toBe(true);
    for (const status of [200, 204, 206, 304, 403, 404])
      expect(
        rows.some((r) => r.httpstatus === status),
        String(status),
      ).toBe(true);
  });

  it('plants the incident: a mass download of the sensitive prefix from a new IP, then deletes', () => {
    const { incident } = sample.truth;
    const fromNewIp = rows.filter((r) => r.remoteip === incident.newIp);
    expect(fromNewIp.length).toBeGreaterThan(100);
    expect(new Set(fromNewIp.map((r) => r.requester))).toEqual(new Set([incident.principal]));
    // The principal's usual IP is the office one, used earlier.
    const earlier = rows.filter((r) => r.requester === incident.principal && r.remoteip !== incident.newIp);
    expect(earlier.length).toBeGreaterThan(0);
    expect(new Set(earlier.map((r) => r.remoteip))).toEqual(new Set([incident.usualIp]));
    const firstNew = fromNewIp.map((r) => r.requestdatetime).sort()[0]!;
    expect(earlier.some((r) => r.requestdatetime < firstNew)).toBe(true);

    const downloads = fromNewIp.filter((r) => r.operation === 'REST.GET.OBJECT');
    expect(downloads).toHaveLength(incident.downloads);
    expect(downloads.every((r) => r.key?.startsWith(incident.prefix))).toBe(true);
    expect(downloads.reduce((s, r) => s + (r.bytessent ?? 0), 0)).toBe(incident.downloadedBytes);
    const deletes = fromNewIp.filter(
      (r) => r.operation === 'REST.DELETE.OBJECT' || r.operation === 'BATCH.DELETE.OBJECT',
    );
    expect(deletes.map((r) => r.key).sort()).toEqual([...incident.deletedKeys].sort());
    const lastDownload = downloads
      .map((r) => r.requestdatetime)
      .sort()
      .at(-1)!;
    expect(deletes.every((r) => r.requestdatetime >= lastDownload)).toBe(true);
    expect(incident.deletedKeys).toContain(incident.investigatedKey);

    // It dominates the traffic rankings the investigation queries produce.
    const bytesBy = (field: 'requester' | 'remoteip') => {
      const m = new Map<string | null, number>();
      for (const r of rows) m.set(r[field], (m.get(r[field]) ?? 0) + (r.bytessent ?? 0));
      return [...m].sort((a, b) => b[1] - a[1]);
    };
    expect(bytesBy('requester')[0]![0]).toBe(incident.principal);
    expect(bytesBy('remoteip')[0]![0]).toBe(incident.newIp);
  });
});
