import { describe, expect, it } from 'vitest';
import {
  advance,
  type ContinuationState,
  decodeState,
  emptyTotals,
  encodeState,
  nextPage,
  resumeState,
} from '../../../functions/backfill/continuation.ts';

/** A state with every optional field set, so a round trip covers them all. */
const full = (): ContinuationState => ({
  v: 1,
  id: 'backfill-x',
  invocation: 2,
  startedAt: '2026-11-01T00:00:00.000Z',
  request: {
    bucket: 'b',
    prefix: 'logs/',
    from: '2026-11-01T00:00:00.000Z',
    to: '2026-11-02T00:00:00.000Z',
    dryRun: false,
    force: true,
    maxObjects: 100,
  },
  window: { from: '2026-10-31T23:00:00.000Z', to: '2026-11-02T06:00:00.000Z' },
  prefixes: ['logs/2026-11-01-', 'logs/2026-11-02-'],
  partitionRoots: 1,
  prefixIndex: 1,
  s3Token: 'tok',
  position: 30,
  lastKey: 'logs/2026-11-02-00-00-00-A',
  totals: { ...emptyTotals(), listed: 130, selected: 100 },
});

describe('continue stage: the state between invocations', () => {
  it('round-trips every field through JSON, and decodes to a copy', () => {
    const payload = JSON.parse(JSON.stringify(encodeState(full())));
    const state = decodeState(payload);
    expect(state).toEqual(full());
    state.position = 99;
    state.totals.listed = 0;
    expect(payload.position).toBe(30);
    expect(payload.totals.listed).toBe(130);
  });

  it('round-trips a range ending on 9999-12-31 and its window padded past it (toISOString writes +010000-…)', () => {
    const end = Date.parse('9999-12-31T00:00:00.000Z') + 86_400_000;
    const to = new Date(end).toISOString();
    const paddedTo = new Date(end + 6 * 3600_000).toISOString();
    expect(to).toMatch(/^\+010000-01-01T00/);
    const state = { ...full(), request: { ...full().request, to }, window: { ...full().window!, to: paddedTo } };
    expect(decodeState(JSON.parse(JSON.stringify(encodeState(state))))).toEqual(state);
  });

  it('names every bad part of a tampered state in one error', () => {
    const bad = {
      ...full(),
      position: -1,
      window: { from: 'yesterday', to: full().window!.to },
      totals: { ...full().totals, listed: 'x' },
      request: { ...full().request, maxObjects: 0 },
    };
    expect(() => decodeState(bad)).toThrow(
      /^continuation: has a bad request \(request\.maxObjects\), a bad window \(window\.from\), a bad cursor \(position\), bad totals \(totals\.listed\); this field is set by the function itself, do not pass it$/,
    );
    expect(() => decodeState([])).toThrow(/^continuation: must be an object/);
  });

  it('resumes as the next invocation, and refuses a continuation with other fields beside it', () => {
    const payload = { continuation: JSON.parse(JSON.stringify(full())) };
    expect(resumeState(payload).invocation).toBe(3);
    expect(payload.continuation.invocation).toBe(2);
    expect(() => resumeState({ ...payload, force: true, dryRun: false })).toThrow(
      /^force, dryRun: cannot be combined with continuation$/,
    );
  });

  it('moves the cursor past handled keys, then to the next page or the next prefix', () => {
    const state = full();
    advance(state, ['k1', 'k2']);
    expect(state).toMatchObject({ position: 32, lastKey: 'k2', s3Token: 'tok' });
    advance(state, []);
    expect(state).toMatchObject({ position: 32, lastKey: 'k2' });

    nextPage(state, 'tok2');
    expect(state).toMatchObject({ prefixIndex: 1, s3Token: 'tok2', position: 0, lastKey: 'k2' });
    nextPage(state, undefined);
    expect(state.prefixIndex).toBe(2);
    expect(state.position).toBe(0);
    expect('s3Token' in state || 'lastKey' in state).toBe(false);
  });
});
