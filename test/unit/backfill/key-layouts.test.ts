import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  keyInRange,
  parseLogKey,
  partitionedListingPrefixes,
  simpleListingPrefixes,
} from '../../../shared/s3/key-layouts.ts';

const iso = (s: string) => new Date(s);

describe('parseLogKey', () => {
  it('parses the simple layout and its delivery time', () => {
    const p = parseLogKey('logs/2026-11-01-13-05-09-7A1B2C3D4E5F6A7B', 'logs/');
    expect(p).toEqual({ layout: 'simple', time: iso('2026-11-01T13:05:09Z'), wholeDay: false });
  });

  it('parses the simple layout with an empty prefix and with a prefix without a slash', () => {
    expect(parseLogKey('2026-01-31-23-59-59-ABC')?.time).toEqual(iso('2026-01-31T23:59:59Z'));
    expect(parseLogKey('access2026-01-31-23-59-59-ABC', 'access')?.layout).toBe('simple');
  });

  it('parses the partitioned layout (DeliveryTime) with its source', () => {
    const p = parseLogKey('logs/123456789012/eu-west-1/my-bucket/2026/11/02/2026-11-02-04-00-01-0123ABCD', 'logs/');
    expect(p).toEqual({
      layout: 'partitioned',
      time: iso('2026-11-02T04:00:01Z'),
      wholeDay: false,
      account: '123456789012',
      region: 'eu-west-1',
      sourceBucket: 'my-bucket',
    });
  });

  it('marks EventTime partitions (time 00-00-00) as covering the whole day', () => {
    const p = parseLogKey('logs/123456789012/us-east-1/b.x/2026/11/02/2026-11-02-00-00-00-FF00', 'logs/');
    expect(p?.wholeDay).toBe(true);
  });

  it('rejects keys in neither layout', () => {
    for (const key of [
      'logs/',
      'logs/readme.txt',
      'logs/2026-11-01-13-05-09', // no unique string
      'logs/2026-13-01-13-05-09-AAAA', // month 13
      'logs/2026-02-30-00-00-00-AAAA', // no such day
      'logs/2026-11-01-24-00-00-AAAA',
      'logs/12345/us-east-1/b/2026/11/02/2026-11-02-04-00-01-AA', // account not 12 digits
      'logs/123456789012/us-east-1/b/2026/11/03/2026-11-02-04-00-01-AA', // folder and file disagree
      'other/2026-11-01-13-05-09-AAAA',
    ]) {
      expect(parseLogKey(key, 'logs/'), key).toBeNull();
    }
  });
});

describe('keyInRange', () => {
  const range = { from: iso('2026-11-01T00:00:00Z'), to: iso('2026-11-02T00:00:00Z') };
  it('is half-open for delivery-time keys', () => {
    expect(keyInRange(parseLogKey('2026-11-01-00-00-00-A')!, range)).toBe(true);
    expect(keyInRange(parseLogKey('2026-11-01-23-59-59-A')!, range)).toBe(true);
    expect(keyInRange(parseLogKey('2026-11-02-00-00-00-A')!, range)).toBe(false);
    expect(keyInRange(parseLogKey('2026-10-31-23-59-59-A')!, range)).toBe(false);
  });
  it('selects an EventTime day partition when the range touches any part of that day', () => {
    const late = { from: iso('2026-11-01T22:00:00Z'), to: iso('2026-11-01T23:00:00Z') };
    expect(keyInRange(parseLogKey('123456789012/r-1/b/2026/11/01/2026-11-01-00-00-00-A')!, late)).toBe(true);
    expect(keyInRange(parseLogKey('123456789012/r-1/b/2026/11/02/2026-11-02-00-00-00-A')!, late)).toBe(false);
  });
});

describe('listing prefixes', () => {
  it('lists one prefix per touched day for a short range (simple layout)', () => {
    const r = { from: iso('2026-11-01T23:00:00Z'), to: iso('2026-11-03T06:00:00Z') };
    expect(simpleListingPrefixes('logs/', r)).toEqual(['logs/2026-11-01-', 'logs/2026-11-02-', 'logs/2026-11-03-']);
  });

  it('does not list the day of an exclusive end at midnight', () => {
    const r = { from: iso('2026-11-01T00:00:00Z'), to: iso('2026-11-02T00:00:00Z') };
    expect(simpleListingPrefixes('', r)).toEqual(['2026-11-01-']);
  });

  it('rolls whole months and years up (partitioned layout)', () => {
    const r = { from: iso('2025-12-31T12:00:00Z'), to: iso('2027-02-02T00:00:00Z') };
    expect(partitionedListingPrefixes('p/123456789012/us-east-1/b/', r)).toEqual([
      'p/123456789012/us-east-1/b/2025/12/31/',
      'p/123456789012/us-east-1/b/2026/',
      'p/123456789012/us-east-1/b/2027/01/',
      'p/123456789012/us-east-1/b/2027/02/01/',
    ]);
  });

  it('returns nothing for an empty range', () => {
    expect(simpleListingPrefixes('x', { from: iso('2026-01-02T00:00:00Z'), to: iso('2026-01-01T00:00:00Z') })).toEqual(
      [],
    );
  });

  // Property: the prefixes match a key for a given day exactly when that day overlaps the range,
  // and no two prefixes match the same key (nothing is listed twice).
  it('covers exactly the touched days, each once (property)', () => {
    const t0 = Date.UTC(2023, 0, 1);
    const span = 4 * 365 * 86_400_000;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: span }), fc.integer({ min: 1, max: 800 * 86_400_000 }), (start, len) => {
        const range = { from: new Date(t0 + start), to: new Date(t0 + start + len) };
        const simple = simpleListingPrefixes('L/', range);
        const part = partitionedListingPrefixes('R/', range);
        const firstDay = Math.floor(range.from.getTime() / 86_400_000) - 2;
        const lastDay = Math.floor((range.to.getTime() - 1) / 86_400_000) + 2;
        for (let d = firstDay; d <= lastDay; d++) {
          const day = new Date(d * 86_400_000);
          const [y, m, dd] = day.toISOString().slice(0, 10).split('-');
          const sKey = `L/${y}-${m}-${dd}-12-00-00-ABC`;
          const pKey = `R/${y}/${m}/${dd}/${y}-${m}-${dd}-12-00-00-ABC`;
          const touched = d * 86_400_000 < range.to.getTime() && (d + 1) * 86_400_000 > range.from.getTime();
          expect(simple.filter((p) => sKey.startsWith(p)).length).toBe(touched ? 1 : 0);
          expect(part.filter((p) => pKey.startsWith(p)).length).toBe(touched ? 1 : 0);
        }
        // Minimal: never more prefixes than days, and a range of whole years is one prefix per year.
        expect(simple.length).toBeLessThanOrEqual(lastDay - firstDay - 3);
      }),
      { numRuns: 60 },
    );
  });
});
