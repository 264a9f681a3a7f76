import { describe, expect, it } from 'vitest';
import { emptyTotals } from '../../../functions/backfill/continuation.ts';
import { byKey, type Entry, selectObjects, tally } from '../../../functions/backfill/select.ts';
import type { ListedObject } from '../../../shared/s3/listing.ts';

const object = (key: string): ListedObject => ({ key, size: 1, etag: 'e', lastModified: new Date(0) });
const IN = object('logs/2026-11-01-10-00-00-AAAA');
const LOADED = object('logs/2026-11-01-11-00-00-BBBB');
const OUTSIDE = object('logs/2026-11-03-10-00-00-CCCC');
const NOT_A_LOG = object('logs/readme.txt');
const window = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') };

/** A ledger holding `loaded`, recording each lookup. */
function ledger(loaded: string[]) {
  const lookups: Array<{ bucket: string; keys: string[] }> = [];
  return {
    lookups,
    async loadedKeys(bucket: string, keys: string[]) {
      lookups.push({ bucket, keys });
      return new Set(keys.filter((k) => loaded.includes(k)));
    },
  };
}

const kinds = (entries: Entry[]) => entries.map((e) => [e.object.key, e.kind]);

describe('filter stage', () => {
  it('sorts objects by key: not a log key, outside the window, or a candidate', () => {
    expect(kinds(byKey([IN, OUTSIDE, NOT_A_LOG], 'logs/', window))).toEqual([
      [IN.key, 'send'],
      [OUTSIDE.key, 'outside'],
      [NOT_A_LOG.key, 'ignored'],
    ]);
    // Without a window (the whole prefix) every log key is a candidate.
    expect(byKey([OUTSIDE], 'logs/', undefined)[0]!.kind).toBe('send');
  });

  it('asks the ledger once per page, about the candidates only, and skips what it holds', async () => {
    const l = ledger([LOADED.key]);
    const entries = await selectObjects(
      [IN, LOADED, OUTSIDE, NOT_A_LOG],
      { bucket: 'b', prefix: 'logs/', window, force: false },
      l,
    );
    expect(kinds(entries)).toEqual([
      [IN.key, 'send'],
      [LOADED.key, 'loaded'],
      [OUTSIDE.key, 'outside'],
      [NOT_A_LOG.key, 'ignored'],
    ]);
    expect(l.lookups).toEqual([{ bucket: 'b', keys: [IN.key, LOADED.key] }]);
  });

  it('with force sends loaded objects again without asking the ledger', async () => {
    const l = ledger([LOADED.key]);
    const entries = await selectObjects([IN, LOADED], { bucket: 'b', prefix: 'logs/', window, force: true }, l);
    expect(entries.map((e) => e.kind)).toEqual(['send', 'send']);
    expect(l.lookups).toEqual([]);
  });

  it('does not ask the ledger when the page has no candidates', async () => {
    const l = ledger([]);
    await selectObjects([OUTSIDE, NOT_A_LOG], { bucket: 'b', prefix: 'logs/', window, force: false }, l);
    expect(l.lookups).toEqual([]);
  });

  it('counts every entry as listed, and loaded and sent ones as selected', () => {
    const totals = { ...emptyTotals(), listCalls: 3 };
    tally(totals, [
      { object: IN, kind: 'send' },
      { object: LOADED, kind: 'loaded' },
      { object: OUTSIDE, kind: 'outside' },
      { object: NOT_A_LOG, kind: 'ignored' },
    ]);
    expect(totals).toEqual({ listed: 4, selected: 2, alreadyLoaded: 1, enqueued: 1, ignored: 1, listCalls: 3 });
  });
});
