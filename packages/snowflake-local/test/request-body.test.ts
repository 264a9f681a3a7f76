import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseQueryBody } from '../src/request-body.ts';

describe('query-request body reader', () => {
  it('keeps array binds as their raw JSON text and parses everything else', () => {
    const body = {
      disableOfflineChunks: false,
      sqlText: 'insert into t values (?, ?)',
      bindings: { '1': { type: 'TEXT', value: ['a"b', 'c\\', null, '[{}]'] }, '2': { type: 'FIXED', value: '7' } },
      parameters: { MULTI_STATEMENT_COUNT: 2 },
      queryContextDTO: { entries: [{ id: 0, context: {} }] },
    };
    const parsed = parseQueryBody(JSON.stringify(body));
    expect(parsed.sqlText).toBe(body.sqlText);
    expect(parsed.parameters).toEqual(body.parameters);
    expect(parsed.queryContextDTO).toEqual(body.queryContextDTO);
    const b = parsed.bindings as Record<string, { type: string; value: unknown; raw?: string }>;
    expect(b['1']).toEqual({ type: 'TEXT', value: null, raw: JSON.stringify(body.bindings['1'].value) });
    expect(b['2']).toEqual({ type: 'FIXED', value: '7' });
  });

  it('round-trips arbitrary strings (quotes, backslashes, unicode) in array binds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.string({ unit: 'binary' }), { nil: null }), { maxLength: 20 }),
        fc.string(),
        (values, sql) => {
          const text = JSON.stringify({
            sqlText: sql,
            bindings: { '1': { type: 'TEXT', value: values } },
            x: [1, { y: '"]}' }],
          });
          const parsed = parseQueryBody(text) as {
            sqlText: string;
            bindings: Record<string, { raw: string }>;
            x: unknown;
          };
          expect(parsed.sqlText).toBe(sql);
          expect(JSON.parse(parsed.bindings['1']!.raw)).toEqual(values);
          expect(parsed.x).toEqual([1, { y: '"]}' }]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
