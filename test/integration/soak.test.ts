/**
 * The soak, short (≈100 objects): the same harness as `npm run soak` (local/harness/soak/harness.ts) with
 * kill -9 of the loaders, Snowflake statement faults at every step, lost responses, S3 errors and
 * cut bodies, duplicate and concurrent deliveries. Nothing may be lost or duplicated, the ledger
 * must match the tables, and (asserted apart: dead-lettered is visible, not lost) nothing may be
 * dead-lettered. Faults come by the clock, so on a loaded
 * machine more attempts fail: the queue allows 40 receives here, so the DLQ stays a signal of a
 * message that cannot load, not of a slow run.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../local/harness/soak/harness.ts';

describe('soak (short)', () => {
  it('100 objects through faults and kills: 0 lost, 0 duplicated, 0 in the DLQ, ledger = tables', async () => {
    const report = await runSoak({
      objects: 100,
      seed: 3,
      killEveryMs: 10_000,
      faultEveryMs: 1_000,
      maxReceiveCount: 40,
      timeoutMs: 360_000,
    });
    const figures = JSON.stringify(report);
    // Silent loss and double loads first: these break exactly-once whatever the DLQ holds.
    expect(report.lostKeys, figures).toEqual([]);
    expect(report, figures).toMatchObject({ lost: 0, duplicates: 0, ledgerInvariantViolations: 0 });
    // Dead-lettered is not lost (a redrive loads it), but with 40 receives allowed it means a
    // message that cannot load: a failure of its own.
    expect(report.deadLetteredKeys, figures).toEqual([]);
    expect(report, figures).toMatchObject({ deadLettered: 0, dlq: 0 });
    // The run did what it says: faults were injected and lines loaded.
    const statementFaults = Object.entries(report.faults)
      .filter(([k]) => k.startsWith('statement_'))
      .reduce((a, [, n]) => a + n, 0);
    expect(statementFaults).toBeGreaterThan(0);
    expect(report.rows + report.rejects).toBeGreaterThanOrEqual(report.lines);
  }, 420_000);
});
