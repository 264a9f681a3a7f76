import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../cli/start.ts';

describe('start: query tables', () => {
  it('aligns text left and numbers right, lower-cases headers, cuts long cells and extra rows', () => {
    const rows = [
      { REMOTEIP: '203.0.113.77', BYTES: 4173993664, NOTE: null },
      { REMOTEIP: '2001:db8:85a3::8a2e:370:7334', BYTES: 12, NOTE: 'x'.repeat(80) },
      { REMOTEIP: '10.0.0.1', BYTES: 1, NOTE: 'y' },
    ];
    const text = renderTable(['REMOTEIP', 'BYTES', 'NOTE'], rows, 2);
    expect(text.split('\n')).toEqual([
      'remoteip                              bytes  note',
      '----------------------------  -------------  ------------------------------------------------------------',
      '203.0.113.77                  4,173,993,664',
      `2001:db8:85a3::8a2e:370:7334             12  ${'x'.repeat(59)}…`,
      '... 1 more row(s)',
    ]);
    expect(renderTable([], [], 5)).toBe('(no rows)');
    expect(renderTable(['T'], [{ T: new Date('2026-11-18T02:07:00Z') }], 5).split('\n')[2]).toBe(
      '2026-11-18 02:07:00Z',
    );
    expect(renderTable(['D'], [{ D: new Date('2026-11-18T00:00:00Z') }], 5).split('\n')[2]).toBe('2026-11-18');
  });
});
