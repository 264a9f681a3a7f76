/** The soak audit's missing objects: lost (silent) apart from dead-lettered (in the DLQ, visible). */
import { describe, expect, it } from 'vitest';
import { missingObjects } from '../../../local/harness/soak/objects.ts';

describe('soak audit: missing objects', () => {
  const objects = [
    { key: 'loaded', lines: 3 },
    { key: 'short', lines: 3 },
    { key: 'dead-lettered', lines: 3 },
    { key: 'vanished', lines: 3 },
    { key: 'corrupt-gzip', lines: null },
  ];
  const ledger = new Map([
    ['loaded', 3],
    ['short', 2],
    ['corrupt-gzip', 1],
  ]);

  it('counts an object with no ledger row as dead-lettered when a DLQ message announces it, else as lost', () => {
    expect(missingObjects(objects, ledger, new Set(['dead-lettered']))).toEqual({
      lost: ['short', 'vanished'],
      deadLettered: ['dead-lettered'],
    });
  });

  it('a loaded object is never dead-lettered, even with a stale DLQ message for it', () => {
    expect(missingObjects(objects, ledger, new Set(['loaded', 'short']))).toEqual({
      lost: ['short', 'dead-lettered', 'vanished'],
      deadLettered: [],
    });
  });
});
