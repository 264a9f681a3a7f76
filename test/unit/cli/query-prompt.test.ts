/** The `query` prompt's session logic, with a fake warehouse (the real one is exercised in test/integration/cli). */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../cli/errors.ts';
import { prompt } from '../../../cli/query.ts';

function session(lines: string[]) {
  const ran: string[] = [];
  const wh = {
    where: 'a fake warehouse',
    async run(sql: string) {
      ran.push(sql);
      if (/nope/i.test(sql))
        throw new CliError(
          "Snowflake error 002003 (42S02): SQL compilation error: Object 'NOPE' does not exist or not authorized.",
        );
      return { columns: ['N'], rows: [{ N: ran.length }], ms: 1 };
    },
  };
  const input = new PassThrough();
  const output = new PassThrough();
  const errors = new PassThrough();
  let out = '';
  let err = '';
  output.setEncoding('utf8').on('data', (d: string) => (out += d));
  errors.setEncoding('utf8').on('data', (d: string) => (err += d));
  input.end(lines.map((l) => `${l}\n`).join(''));
  return prompt(wh, 'csv', { input, output, errors }).then(() => ({ ran, out, err }));
}

describe('query prompt', () => {
  it('runs statements as they end with ";" (over several lines too), goes on after an error, stops at \\q', async () => {
    const r = await session([
      'SELECT 1;',
      'SELECT',
      '  2;',
      'SELECT * FROM nope;',
      'SELECT 3; SELECT 4;',
      '\\q',
      'SELECT 5;',
    ]);
    expect(r.ran).toEqual(['SELECT 1', 'SELECT\n  2', 'SELECT * FROM nope', 'SELECT 3', 'SELECT 4']);
    expect(r.out).toContain('Connected to a fake warehouse.');
    expect(r.out).toContain('   ...> ');
    expect(r.out.match(/N\n\d+\n/g)).toEqual(['N\n1\n', 'N\n2\n', 'N\n4\n', 'N\n5\n']);
    expect(r.err).toBe(
      "Snowflake error 002003 (42S02): SQL compilation error: Object 'NOPE' does not exist or not authorized.\n",
    );
  });

  it('ends at the end of input (Ctrl-D), leaving an unfinished statement unrun', async () => {
    const r = await session(['SELECT 1;', 'SELECT 2']);
    expect(r.ran).toEqual(['SELECT 1']);
  });
});
