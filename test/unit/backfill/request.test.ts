import { describe, expect, it } from 'vitest';
import { BackfillRequestError, parseTime, validateRequest } from '../../../functions/backfill/request.ts';

const limits = { logBucket: 'log-bucket', logPrefix: 'logs/', allowedBuckets: ['other-logs'], maxRangeDays: 31 };
const now = new Date('2026-11-20T10:00:00Z');

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BackfillRequestError);
    return (err as BackfillRequestError).field;
  }
  throw new Error('expected a BackfillRequestError');
}

describe('parseTime', () => {
  it('reads a date as the start of the day for from and the end of it for to', () => {
    expect(parseTime('from', '2026-11-01').toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(parseTime('to', '2026-11-02').toISOString()).toBe('2026-11-03T00:00:00.000Z');
  });
  it('reads instants with Z, an offset, or no zone (UTC)', () => {
    expect(parseTime('from', '2026-11-01T13:00:00Z').toISOString()).toBe('2026-11-01T13:00:00.000Z');
    expect(parseTime('from', '2026-11-01T13:00+02:00').toISOString()).toBe('2026-11-01T11:00:00.000Z');
    expect(parseTime('from', '2026-11-01T13:00:05.5').toISOString()).toBe('2026-11-01T13:00:05.500Z');
  });
  it('rejects what is not a calendar date or ISO form', () => {
    for (const bad of [
      '2026-02-30',
      '2026-13-01',
      '11/01/2026',
      'yesterday',
      '2026-11-01 13:00',
      '2026-02-30T00:00:00Z',
    ]) {
      expect(() => parseTime('from', bad), bad).toThrow(/^from: /);
    }
    expect(() => parseTime('to', 20261101)).toThrow(/^to: must be an ISO date/);
  });
});

describe('validateRequest', () => {
  it('defaults bucket and prefix to the configured log bucket and prefix', () => {
    const r = validateRequest({ from: '2026-11-01', to: '2026-11-02' }, limits, now);
    expect(r).toMatchObject({ bucket: 'log-bucket', prefix: 'logs/', dryRun: false, force: false, redriveDlq: false });
    expect(r.from?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(r.to?.toISOString()).toBe('2026-11-03T00:00:00.000Z');
  });

  it('runs a from without to up to now', () => {
    expect(validateRequest({ from: '2026-11-19' }, limits, now).to).toEqual(now);
  });

  it('accepts an allowed other bucket and its own prefix', () => {
    const r = validateRequest(
      { bucket: 'other-logs', prefix: '', from: '2026-11-01', to: '2026-11-01', dryRun: true, maxObjects: 5 },
      limits,
      now,
    );
    expect(r).toMatchObject({ bucket: 'other-logs', prefix: '', dryRun: true, maxObjects: 5 });
  });

  it('names the field of every bad input', () => {
    const range = { from: '2026-11-01', to: '2026-11-02' };
    expect(fieldOf(() => validateRequest({ ...range, bucket: 'not-allowed' }, limits, now))).toBe('bucket');
    expect(fieldOf(() => validateRequest({ ...range, bucket: 'Bad_Name' }, limits, now))).toBe('bucket');
    expect(fieldOf(() => validateRequest({ ...range, colour: 'red' }, limits, now))).toBe('colour');
    expect(fieldOf(() => validateRequest({ from: '2026-11-03', to: '2026-11-01' }, limits, now))).toBe('from');
    expect(fieldOf(() => validateRequest({ from: 'nope', to: '2026-11-01' }, limits, now))).toBe('from');
    expect(fieldOf(() => validateRequest({ to: '2026-11-01' }, limits, now))).toBe('from');
    expect(fieldOf(() => validateRequest({ ...range, dryRun: 'yes' }, limits, now))).toBe('dryRun');
    expect(fieldOf(() => validateRequest({ ...range, maxObjects: 0 }, limits, now))).toBe('maxObjects');
    expect(fieldOf(() => validateRequest({ ...range, maxObjects: 1.5 }, limits, now))).toBe('maxObjects');
    expect(fieldOf(() => validateRequest({ ...range, prefix: 7 }, limits, now))).toBe('prefix');
    expect(fieldOf(() => validateRequest([1], limits, now))).toBe('payload');
    expect(fieldOf(() => validateRequest({ redriveDlq: true, from: '2026-11-01' }, limits, now))).toBe('from');
  });

  it('names every bad field in one error, each with what is wrong', () => {
    let error: BackfillRequestError | undefined;
    try {
      validateRequest(
        { bucket: 'Bad_Name', from: 'nope', to: '2026-11-02', dryRun: 'yes', maxObjects: 0, colour: 'red' },
        limits,
        now,
      );
    } catch (err) {
      error = err as BackfillRequestError;
    }
    expect(error).toBeInstanceOf(BackfillRequestError);
    expect(error!.problems.map((p) => p.field).sort()).toEqual(['bucket', 'colour', 'dryRun', 'from', 'maxObjects']);
    expect(error!.field).toBe(error!.problems[0]!.field);
    for (const part of [
      'bucket: "Bad_Name" is not a valid S3 bucket name',
      'from: "nope" is not an ISO date (2026-11-01) or instant (2026-11-01T13:00:00Z)',
      'dryRun: must be true or false, got "yes"',
      'maxObjects: must be a positive integer, got 0',
      'colour: unknown field; allowed: bucket, prefix, from, to, dryRun, force, maxObjects, redriveDlq',
    ]) {
      expect(error!.message).toContain(part);
    }
  });

  it('names every field a redrive cannot take, together', () => {
    expect(() => validateRequest({ redriveDlq: true, from: '2026-11-01', force: true }, limits, now)).toThrow(
      /^from, force: cannot be combined with redriveDlq \(a redrive moves every DLQ message\)$/,
    );
  });

  it('keeps a single problem to one "field: message" sentence', () => {
    expect(() => validateRequest({ from: '2026-11-01', to: '2026-11-02', maxObjects: 'ten' }, limits, now)).toThrow(
      /^maxObjects: must be a positive integer, got "ten"$/,
    );
    expect(() => validateRequest('payload', limits, now)).toThrow(/^payload: must be a JSON object$/);
  });

  it('says how to fix a bucket that is not allowed', () => {
    expect(() => validateRequest({ bucket: 'nope-bucket', from: '2026-11-01', to: '2026-11-02' }, limits, now)).toThrow(
      /bucket: "nope-bucket" is not allowed; allowed: log-bucket, other-logs; to replay it, add it to LOG_BUCKETS/,
    );
  });

  it('needs force for a range over the maximum, or for no range at all', () => {
    expect(() => validateRequest({ from: '2026-01-01', to: '2026-03-01' }, limits, now)).toThrow(
      /over the maximum of 31.*set force/,
    );
    expect(validateRequest({ from: '2026-01-01', to: '2026-03-01', force: true }, limits, now).force).toBe(true);
    expect(() => validateRequest({}, limits, now)).toThrow(
      /^from: is required: give a range, or set force to replay the whole prefix "logs\/"$/,
    );
    const all = validateRequest({ force: true }, limits, now);
    expect(all.from).toBeUndefined();
    expect(all.to).toBeUndefined();
  });

  it('takes a redrive alone (dryRun allowed)', () => {
    expect(validateRequest({ redriveDlq: true, dryRun: true }, limits, now)).toMatchObject({
      redriveDlq: true,
      dryRun: true,
    });
  });
});
