/**
 * Query results as text: the tables `npm start`, `query` and `investigate` print, and the values
 * `query --format csv|ndjson` writes.
 */

const fmt = (n: number) => n.toLocaleString('en-US');

/** A result value as plain data: Dates and the SDK's timestamp objects become ISO text. */
export function plainValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: () => unknown }).toJSON === 'function') {
    return (v as { toJSON: () => unknown }).toJSON();
  }
  return v;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) {
    // The SDK hands DATE values over as Dates at midnight UTC; show those as plain dates.
    const iso = v.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace('T', ' ').replace(/\.000Z$/, 'Z');
  }
  if (typeof v === 'number') return Number.isInteger(v) ? fmt(v) : String(v);
  if (typeof v === 'bigint') return fmt(Number(v));
  if (typeof v === 'object') {
    const s =
      typeof (v as { toJSON?: () => unknown }).toJSON === 'function' ? (v as { toJSON: () => unknown }).toJSON() : v;
    return typeof s === 'string' ? s : JSON.stringify(s);
  }
  return String(v);
}

/** A plain text table; long cells are cut so a row fits a wide terminal. */
export function renderTable(columns: string[], rows: Array<Record<string, unknown>>, maxRows: number): string {
  if (rows.length === 0) return '(no rows)';
  const shown = rows.slice(0, maxRows);
  const cut = (s: string) => (s.length > 60 ? `${s.slice(0, 59)}…` : s);
  const body = shown.map((r) => columns.map((c) => cut(cell(r[c]))));
  const head = columns.map((c) => c.toLowerCase());
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = columns.map((c) =>
    shown.every((r) => r[c] === null || typeof r[c] === 'number' || typeof r[c] === 'bigint'),
  );
  const line = (cells: string[]) =>
    cells
      .map((s, i) => (numeric[i] ? s.padStart(width[i]!) : s.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  if (rows.length > shown.length) lines.push(`... ${rows.length - shown.length} more row(s)`);
  return lines.join('\n');
}

const CSV_SPECIAL = /[",\r\n]/;

function csvCell(v: unknown): string {
  const p = plainValue(v);
  if (p === null) return '';
  const s = typeof p === 'object' ? JSON.stringify(p) : String(p);
  return CSV_SPECIAL.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header row of the column names as the warehouse returns them. */
export function renderCsv(columns: string[], rows: Array<Record<string, unknown>>): string {
  return [columns.map(csvCell), ...rows.map((r) => columns.map((c) => csvCell(r[c])))]
    .map((l) => `${l.join(',')}\n`)
    .join('');
}

/** One JSON object per row, keys in column order. */
export function renderNdjson(columns: string[], rows: Array<Record<string, unknown>>): string {
  return rows.map((r) => `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, plainValue(r[c])])))}\n`).join('');
}
