import { describe, expect, it } from 'vitest';
import { paddedWindow, planPrefixes, startState } from '../../../functions/backfill/plan.ts';

const padding = { paddingBeforeMs: 60 * 60_000, paddingAfterMs: 6 * 60 * 60_000 };
const now = new Date('2026-11-20T10:00:00Z');

describe('plan stage', () => {
  it('widens the range by the padding on both sides, and has no window without a range', () => {
    const range = { from: new Date('2026-11-01T05:00:00Z'), to: new Date('2026-11-02T20:00:00Z') };
    expect(paddedWindow(range, padding)).toEqual({ from: '2026-11-01T04:00:00.000Z', to: '2026-11-03T02:00:00.000Z' });
    expect(paddedWindow({}, padding)).toBeUndefined();
  });

  it('starts a backfill with the request, its window, no plan and the cursor at the start', () => {
    const request = {
      bucket: 'b',
      prefix: 'logs/',
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-02T00:00:00Z'),
      dryRun: true,
      force: false,
      maxObjects: 7,
      redriveDlq: false,
    };
    expect(startState(request, padding, 'backfill-x', now)).toEqual({
      v: 1,
      id: 'backfill-x',
      invocation: 1,
      startedAt: now.toISOString(),
      request: {
        bucket: 'b',
        prefix: 'logs/',
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-11-02T00:00:00.000Z',
        dryRun: true,
        force: false,
        maxObjects: 7,
      },
      window: { from: '2026-10-31T23:00:00.000Z', to: '2026-11-02T06:00:00.000Z' },
      prefixes: [],
      partitionRoots: 0,
      prefixIndex: 0,
      position: 0,
      totals: { listed: 0, selected: 0, alreadyLoaded: 0, enqueued: 0, ignored: 0, listCalls: 0 },
    });
    const whole = startState({ ...request, from: undefined, to: undefined, maxObjects: undefined }, padding, 'y', now);
    expect(Object.keys(whole.request).sort()).toEqual(['bucket', 'dryRun', 'force', 'prefix']);
    expect(whole.window).toBeUndefined();
  });

  it('lists the whole prefix, and discovers no roots, when there is no window', async () => {
    const lister = {
      topFolders: () => Promise.reject(new Error('must not list')),
      partitionRoots: () => Promise.reject(new Error('must not list')),
      vendedRoots: () => Promise.reject(new Error('must not list')),
    };
    expect(await planPrefixes(lister, 'logs/', undefined)).toEqual({ prefixes: ['logs/'], partitionRoots: 0 });
  });

  it('plans the window days for the simple keys, every partitioned root and every vended root', async () => {
    const asked: string[][] = [];
    const lister = {
      topFolders: async (prefix: string) => {
        asked.push([prefix]);
        return ['logs/123456789012/', 'logs/vpc/'];
      },
      partitionRoots: async (prefix: string, top?: string[]) => {
        asked.push([prefix, ...(top ?? [])]);
        return ['logs/123456789012/us-east-1/b/'];
      },
      vendedRoots: async (prefix: string, top: string[]) => {
        asked.push([prefix, ...top]);
        return [
          { root: 'logs/vpc/a/', hive: false },
          { root: 'logs/vpc/h/', hive: true },
        ];
      },
    };
    const window = { from: new Date('2026-11-01T23:00:00Z'), to: new Date('2026-11-02T06:00:00Z') };
    expect(await planPrefixes(lister, 'logs/', window)).toEqual({
      prefixes: [
        'logs/2026-11-01-',
        'logs/2026-11-02-',
        'logs/123456789012/us-east-1/b/2026/11/01/',
        'logs/123456789012/us-east-1/b/2026/11/02/',
        'logs/vpc/a/2026/11/01/',
        'logs/vpc/a/2026/11/02/',
        'logs/vpc/h/year=2026/month=11/day=01/',
        'logs/vpc/h/year=2026/month=11/day=02/',
      ],
      partitionRoots: 3,
    });
    // The top folders are listed once and handed to both root searches.
    expect(asked).toEqual([
      ['logs/'],
      ['logs/', 'logs/123456789012/', 'logs/vpc/'],
      ['logs/', 'logs/123456789012/', 'logs/vpc/'],
    ]);
  });
});
