import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, csvRecord, type CsvValue } from '../../../shared/snowflake/pipe/csv.ts';
import { readRecords } from '../../helpers/csv.ts';

describe('staged-file CSV dialect', () => {
  it('quotes every string, doubling inner quotes; NULL is an empty unquoted field', () => {
    expect(csvField('plain')).toBe('"plain"');
    expect(csvField('')).toBe('""');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField('say "hi", then\nleave\r')).toBe('"say ""hi"", then\nleave\r"');
    expect(csvField('\\N')).toBe('"\\N"');
    expect(csvField('Grüße ✓ 日本 🎉')).toBe('"Grüße ✓ 日本 🎉"');
  });

  it('writes integers as plain digits (never exponent notation) and booleans as TRUE/FALSE', () => {
    expect(csvField(0)).toBe('0');
    expect(csvField(9007199254740991)).toBe('9007199254740991');
    expect(csvField(5_000_000_000_000_000_000_000)).toBe('5000000000000000000000');
    expect(csvField(12345678901234567890n)).toBe('12345678901234567890');
    expect(csvField(true)).toBe('TRUE');
    expect(csvField(false)).toBe('FALSE');
    expect(() => csvField(Number.NaN)).toThrow(/finite/);
  });

  it('ends each record with \\n and separates fields with commas', () => {
    expect(csvRecord(['a', null, 1, false, ''])).toBe('"a",,1,FALSE,""\n');
  });

  it('reads back exactly what it wrote, for any strings, nulls, safe integers and booleans', () => {
    const value = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('"', ',', '\n', '\r', ' ', 'a', '\\', 'é', '🎉') }),
      fc.constant(null),
      fc.maxSafeNat(),
      fc.boolean(),
    );
    fc.assert(
      fc.property(fc.array(fc.array(value, { minLength: 1, maxLength: 8 }), { maxLength: 5 }), (records) => {
        const text = records.map((r) => csvRecord(r as CsvValue[])).join('');
        expect(readRecords(text)).toEqual(records);
      }),
      { numRuns: 500 },
    );
  });
});
