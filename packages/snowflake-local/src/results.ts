/**
 * DuckDB results → Snowflake's JSON result format: a `rowtype` describing each column and a
 * `rowset` of string values, encoded the way snowflake-sdk's result/column.js decodes them
 * (numbers as decimal text, dates as epoch days, timestamps as "<epoch s>.<9 digits>", TIMESTAMP_TZ
 * with " <offset minutes + 1440>", booleans as "1"/"0", semi-structured values as JSON text).
 */
import { DuckDBTypeId, type DuckDBResultReader, type DuckDBType } from '@duckdb/node-api';

export interface RowType {
  name: string;
  database: string;
  schema: string;
  table: string;
  type: string;
  nullable: boolean;
  precision: number | null;
  scale: number | null;
  length: number | null;
  byteLength: number | null;
  collation: null;
}

export interface ResultSet {
  rowtype: RowType[];
  rowset: Array<Array<string | null>>;
}

const column = (name: string, type: string, extra: Partial<RowType> = {}): RowType => ({
  name,
  database: '',
  schema: '',
  table: '',
  type,
  nullable: true,
  precision: null,
  scale: null,
  length: null,
  byteLength: null,
  collation: null,
  ...extra,
});

export const fixedColumn = (name: string) => column(name, 'fixed', { precision: 19, scale: 0, nullable: false });
export const textColumn = (name: string) => column(name, 'text', { length: 16777216, byteLength: 16777216 });

type Encoder = (v: unknown, json: unknown) => string;

const NANOS = 1_000_000_000n;

/** "<seconds>.<9 digits>" for a count of microseconds since the epoch. */
function epochText(micros: bigint): string {
  // A signed decimal: the SDK multiplies it by 10^scale and floors it itself.
  if (micros < 0n) return `-${epochText(-micros)}`;
  const nanos = micros * 1000n;
  return `${nanos / NANOS}.${(nanos % NANOS).toString().padStart(9, '0')}`;
}

function describe(name: string, type: DuckDBType): { row: RowType; enc: Encoder; complex?: boolean } {
  const id = type.typeId;
  switch (id) {
    case DuckDBTypeId.BOOLEAN:
      return { row: column(name, 'boolean'), enc: (v) => (v ? '1' : '0') };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return { row: column(name, 'fixed', { precision: 38, scale: 0 }), enc: (v) => String(v) };
    case DuckDBTypeId.DECIMAL: {
      const t = type as unknown as { width: number; scale: number };
      return { row: column(name, 'fixed', { precision: t.width, scale: t.scale }), enc: (v) => String(v) };
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return {
        row: column(name, 'real'),
        enc: (v) => {
          const n = v as number;
          return Number.isFinite(n) ? String(n) : Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
        },
      };
    case DuckDBTypeId.VARCHAR:
      if (type.alias === 'JSON')
        return { row: column(name, 'variant', { length: 16777216, byteLength: 16777216 }), enc: (v) => String(v) };
      return { row: textColumn(name), enc: (v) => String(v) };
    case DuckDBTypeId.DATE:
      return { row: column(name, 'date'), enc: (v) => String((v as { days: number }).days) };
    case DuckDBTypeId.TIME:
      return {
        row: column(name, 'time', { precision: 0, scale: 9 }),
        enc: (v) => epochText((v as { micros: bigint }).micros),
      };
    case DuckDBTypeId.TIMESTAMP:
      return {
        row: column(name, 'timestamp_ntz', { precision: 0, scale: 9 }),
        enc: (v) => epochText((v as { micros: bigint }).micros),
      };
    case DuckDBTypeId.TIMESTAMP_TZ:
      // DuckDB keeps the instant, not the writer's offset: values come back at UTC (+00:00 → 1440).
      return {
        row: column(name, 'timestamp_tz', { precision: 0, scale: 9 }),
        enc: (v) => `${epochText((v as { micros: bigint }).micros)} 1440`,
      };
    case DuckDBTypeId.BLOB:
      return {
        row: column(name, 'binary', { length: 8388608, byteLength: 8388608 }),
        enc: (v) =>
          Buffer.from((v as { bytes: Uint8Array }).bytes)
            .toString('hex')
            .toUpperCase(),
      };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.UNION:
      return { row: column(name, 'variant'), enc: (_v, json) => JSON.stringify(json), complex: true };
    default:
      return { row: textColumn(name), enc: (v) => String(v) };
  }
}

export function encodeResult(reader: DuckDBResultReader): ResultSet {
  const names = reader.columnNames();
  const types = reader.columnTypes();
  const cols = names.map((n, i) => describe(n, types[i]!));
  const rows = reader.getRows();
  const jsonRows = cols.some((c) => c.complex) ? reader.getRowsJson() : null;
  const rowset = new Array<Array<string | null>>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const out = new Array<string | null>(cols.length);
    for (let c = 0; c < cols.length; c++) {
      const v = row[c];
      out[c] = v === null || v === undefined ? null : cols[c]!.enc(v, jsonRows?.[r]?.[c]);
    }
    rowset[r] = out;
  }
  return { rowtype: cols.map((c) => c.row), rowset };
}

export function statusResult(message: string): ResultSet {
  return { rowtype: [textColumn('status')], rowset: [[message]] };
}

export function countsResult(names: string[], counts: Array<number | bigint>): ResultSet {
  return { rowtype: names.map(fixedColumn), rowset: [counts.map((c) => String(c))] };
}

export function tableResult(
  columns: Array<{ name: string; kind: 'text' | 'fixed' | 'timestamp' }>,
  rows: Array<Array<string | null>>,
): ResultSet {
  return {
    rowtype: columns.map((c) =>
      c.kind === 'fixed'
        ? column(c.name, 'fixed', { precision: 38, scale: 0 })
        : c.kind === 'timestamp'
          ? column(c.name, 'timestamp_ltz', { precision: 0, scale: 9 })
          : textColumn(c.name),
    ),
    rowset: rows,
  };
}
