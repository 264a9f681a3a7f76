import { describe, expect, it } from 'vitest';
import { Budget } from '../../../functions/backfill/budget.ts';
import { emptyTotals } from '../../../functions/backfill/continuation.ts';

describe('continue stage: the budget', () => {
  it('is out of time below the safety margin, but only after some progress', () => {
    let left = 5_000;
    const budget = new Budget({ getRemainingTimeInMillis: () => left }, 10_000, emptyTotals());
    expect(budget.outOfTime()).toBe(false);
    budget.progress();
    expect(budget.outOfTime()).toBe(true);
    left = 10_000;
    expect(budget.outOfTime()).toBe(false);
  });

  it('leaves room for maxObjects minus the objects selected so far, unbounded without it', () => {
    const totals = emptyTotals();
    const ctx = { getRemainingTimeInMillis: () => 60_000 };
    const budget = new Budget(ctx, 1_000, totals, 25);
    expect(budget.room()).toBe(25);
    totals.selected = 20;
    expect(budget.room()).toBe(5);
    totals.selected = 25;
    expect(budget.room()).toBe(0);
    expect(new Budget(ctx, 1_000, totals).room()).toBe(Number.POSITIVE_INFINITY);
  });
});
