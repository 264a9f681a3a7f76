/**
 * Snowflake SQL → DuckDB SQL, one statement at a time, on tokens (see tokens.ts) so that string
 * literals are never rewritten. Unquoted identifiers fold to upper case, as Snowflake stores them,
 * so result column names come back upper-case. Statements that cannot be emulated are refused
 * here with a clear error instead of succeeding with different behaviour.
 */
import { sfError, unsupported } from './errors.ts';
import { snowpipeKind } from './snowpipe/objects.ts';
import { type Token, isOp, isWord, matchParen, quoteIdent, splitTopLevel, sqlString } from './tokens.ts';

export interface SessionNames {
  database: string | null;
  schema: string | null;
  user: string;
  role: string;
  warehouse: string | null;
}

/** A table named by a statement, resolved against the session's current database and schema. */
export interface TableRef {
  database: string;
  schema: string;
  table: string;
}

export type MergeCounter = 'inserted' | 'updated' | 'deleted';

export type Plan =
  | { kind: 'txn'; op: 'begin' | 'commit' | 'rollback' }
  /** File formats, stages, pipes (snowpipe/objects.ts): run by the Snowpipe catalog. */
  | { kind: 'snowpipe'; tokens: Token[]; show: boolean }
  | { kind: 'use'; database?: string; schema?: string; other?: string }
  | { kind: 'alterSession'; set: Record<string, string>; unset: string[] }
  | { kind: 'createDatabase'; name: string; orReplace: boolean; ifNotExists: boolean }
  | { kind: 'dropDatabase'; name: string; ifExists: boolean }
  | { kind: 'describe'; table: TableRef }
  | { kind: 'show'; what: 'tables' | 'schemas' | 'databases'; like: string | null; in: string[] | null }
  | {
      kind: 'exec';
      sql: string;
      type: 'query' | 'insert' | 'update' | 'delete' | 'merge' | 'ddl';
      statementTypeId: number;
      /** Table whose write lock the statement needs (MERGE/UPDATE/DELETE/TRUNCATE/INSERT OVERWRITE). */
      lock?: TableRef;
      mergeCounters?: MergeCounter[];
      /** INSERT OVERWRITE: delete these rows first, in the same transaction. */
      preSql?: string;
      status?: string;
      /** Set when the INSERT was rewritten to a set-based statement over array binds. */
      arrayInsert?: boolean;
      /** The array INSERT up to its FROM, so the bind lists can also come from files (warehouse.ts). */
      arrayInsertHead?: string;
      /** Binds read as timestamps (normalized before binding). */
      timestampBinds?: number[];
      /** INSERT ... VALUES: the target table, its column list, and the bind feeding each value (or null). */
      insertTarget?: { table: TableRef; columns: string[] | null; binds: Array<{ bind: number; position: number }> };
    };

export const STATEMENT_TYPE = {
  select: 0x1000,
  insert: 0x3100,
  update: 0x3200,
  delete: 0x3300,
  merge: 0x3400,
  session: 0x4000,
  txn: 0x5000,
  ddl: 0x6000,
} as const;

export interface TranslateOptions {
  names: SessionNames;
  /** 'array' when the request carried array binds (one array per bind position). */
  bindMode: 'none' | 'scalar' | 'array';
  /** Snowflake bind types by 1-based position, for casts in array mode. */
  bindTypes?: Record<number, string>;
  bindCount?: number;
  /** SYSTEM$PIPE_STATUS and COPY_HISTORY (snowpipe/catalog.ts); absent = refused. */
  snowpipe?: SnowpipeSql;
}

export interface SnowpipeSql {
  pipeStatus(pipeName: string, names: SessionNames): string;
  copyHistorySql(args: Record<string, string>, tableName: string | null, db: string, names: SessionNames): string;
}

const REFUSED_CREATE = new Set([
  'STAGE',
  'PIPE',
  'STREAM',
  'TASK',
  'INTEGRATION',
  'STORAGE',
  'NOTIFICATION',
  'API',
  'SECURITY',
  'FILE',
  'PROCEDURE',
  'FUNCTION',
  'EXTERNAL',
  'DYNAMIC',
  'ALERT',
  'WAREHOUSE',
  'ROLE',
  'USER',
  'SHARE',
  'NETWORK',
  'RESOURCE',
  'MASKING',
  'ROW',
  'TAG',
  'ICEBERG',
  'HYBRID',
  'EVENT',
]);

/** Keywords after which a trailing word is not an implicit alias. */
const NOT_ALIAS_BEFORE = new Set([
  'AND',
  'OR',
  'NOT',
  'IS',
  'IN',
  'LIKE',
  'ILIKE',
  'BETWEEN',
  'THEN',
  'ELSE',
  'WHEN',
  'CASE',
  'AS',
  'DISTINCT',
  'SELECT',
  'ALL',
]);
const NOT_ALIAS = new Set(['END', 'NULL', 'TRUE', 'FALSE']);
const SELECT_END = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'HAVING',
  'QUALIFY',
  'ORDER',
  'LIMIT',
  'OFFSET',
  'UNION',
  'EXCEPT',
  'MINUS',
  'INTERSECT',
  'FETCH',
  'WINDOW',
  'INTO',
]);

// ---------------------------------------------------------------------------------------------
// Types

interface TypeRule {
  /** A word that may follow the name: CHAR VARYING, DOUBLE PRECISION. */
  suffix?: string;
  /** Whether a parenthesized parameter list may follow: VARCHAR(10), NUMBER(38,2), TIMESTAMP_TZ(9). */
  args?: boolean;
  /** The DuckDB type, or how to derive it from the numeric parameters. */
  sql: string | ((args: string[]) => string);
}

/** NUMBER(p, s): integers get DuckDB integer types (casting text to DECIMAL(38,0) is ~40x slower in DuckDB). */
function numberType(args: string[]): string {
  const p = args[0] ? Number(args[0]) : 38;
  const s = args[1] ? Number(args[1]) : 0;
  if (p < 1 || p > 38 || s < 0 || s > p)
    throw sfError('syntax', `SQL compilation error:\ninvalid type NUMBER(${p},${s})`);
  if (s === 0) return p <= 18 ? 'BIGINT' : 'HUGEINT';
  return `DECIMAL(${p},${s})`;
}

const family = (names: string, rule: TypeRule) => names.split(' ').map((n) => [n, rule] as const);

/** Snowflake type name → how DuckDB stores it. */
const TYPES = new Map<string, TypeRule>([
  ...family('VARCHAR STRING TEXT CHAR CHARACTER NCHAR NVARCHAR NVARCHAR2 CHAR_VARYING', {
    suffix: 'VARYING',
    args: true,
    sql: 'VARCHAR',
  }),
  ...family('NUMBER NUMERIC DECIMAL DEC', { args: true, sql: numberType }),
  ...family('INT INTEGER BIGINT SMALLINT TINYINT BYTEINT', { sql: 'HUGEINT' }),
  ...family('FLOAT FLOAT4 FLOAT8 REAL DOUBLE', { suffix: 'PRECISION', args: true, sql: 'DOUBLE' }),
  ...family('BOOLEAN BOOL', { sql: 'BOOLEAN' }),
  ...family('DATE', { sql: 'DATE' }),
  ...family('TIME', { args: true, sql: 'TIME' }),
  ...family('DATETIME TIMESTAMP_NTZ TIMESTAMPNTZ TIMESTAMP', { args: true, sql: 'TIMESTAMP' }),
  ...family('TIMESTAMP_TZ TIMESTAMPTZ TIMESTAMP_LTZ TIMESTAMPLTZ', { args: true, sql: 'TIMESTAMPTZ' }),
  // Structured ARRAY(type)/OBJECT(...) are stored as JSON like the semi-structured form.
  ...family('VARIANT OBJECT ARRAY JSON', { args: true, sql: 'JSON' }),
  ...family('BINARY VARBINARY BLOB', { args: true, sql: 'BLOB' }),
]);

const UNSUPPORTED_TYPES = new Set(['GEOGRAPHY', 'GEOMETRY', 'VECTOR', 'MAP']);

/** Maps the Snowflake type starting at tokens[i]; returns the DuckDB type and the next index. */
export function mapType(t: Token[], i: number): { sql: string; next: number } {
  const w = t[i];
  if (!w || (w.kind !== 'word' && w.kind !== 'qid')) throw sfError('syntax', 'SQL compilation error:\ntype expected');
  const name = w.kind === 'word' ? w.value : w.value.toUpperCase();
  const rule = TYPES.get(name);
  if (!rule) {
    if (UNSUPPORTED_TYPES.has(name)) throw unsupported(`The ${name} type`);
    throw sfError('syntax', `SQL compilation error:\nUnsupported data type '${name}'.`);
  }
  let next = i + 1;
  if (rule.suffix && isWord(t[next], rule.suffix)) next++;
  let args: string[] = [];
  if (rule.args && isOp(t[next], '(')) {
    const close = matchParen(t, next);
    args = t
      .slice(next + 1, close)
      .filter((x) => x.kind === 'num')
      .map((x) => x.value);
    next = close + 1;
  }
  if (name === 'TIMESTAMP' && isWord(t[next], 'WITH', 'WITHOUT')) {
    const withTz = t[next]!.value === 'WITH';
    while (t[next] && isWord(t[next], 'WITH', 'WITHOUT', 'LOCAL', 'TIME', 'ZONE')) next++;
    return { sql: withTz ? 'TIMESTAMPTZ' : 'TIMESTAMP', next };
  }
  return { sql: typeof rule.sql === 'string' ? rule.sql : rule.sql(args), next };
}

// ---------------------------------------------------------------------------------------------
// Expressions

const DATE_PARTS: Record<string, string> = {
  Y: 'year',
  YY: 'year',
  YYY: 'year',
  YYYY: 'year',
  YR: 'year',
  YEARS: 'year',
  YRS: 'year',
  YEAR: 'year',
  Q: 'quarter',
  QTR: 'quarter',
  QTRS: 'quarter',
  QUARTER: 'quarter',
  QUARTERS: 'quarter',
  MM: 'month',
  MON: 'month',
  MONS: 'month',
  MONTH: 'month',
  MONTHS: 'month',
  W: 'week',
  WK: 'week',
  WEEK: 'week',
  WEEKS: 'week',
  WEEKOFYEAR: 'week',
  WOY: 'week',
  WY: 'week',
  D: 'day',
  DD: 'day',
  DAY: 'day',
  DAYS: 'day',
  DAYOFMONTH: 'day',
  H: 'hour',
  HH: 'hour',
  HR: 'hour',
  HOUR: 'hour',
  HOURS: 'hour',
  HRS: 'hour',
  M: 'minute',
  MI: 'minute',
  MIN: 'minute',
  MINUTE: 'minute',
  MINUTES: 'minute',
  MINS: 'minute',
  S: 'second',
  SEC: 'second',
  SECOND: 'second',
  SECONDS: 'second',
  SECS: 'second',
  MS: 'millisecond',
  MSEC: 'millisecond',
  MILLISECOND: 'millisecond',
  MILLISECONDS: 'millisecond',
  US: 'microsecond',
  USEC: 'microsecond',
  MICROSECOND: 'microsecond',
  MICROSECONDS: 'microsecond',
  NS: 'nanosecond',
  NSEC: 'nanosecond',
  NANOSECOND: 'nanosecond',
  NANOSECONDS: 'nanosecond',
  DOW: 'dow',
  DAYOFWEEK: 'dow',
  DOY: 'doy',
  DAYOFYEAR: 'doy',
  EPOCH_SECOND: 'epoch',
  EPOCH: 'epoch',
};

const ADD_UNIT: Record<string, (n: string) => string> = {
  year: (n) => `to_years(CAST(${n} AS INTEGER))`,
  quarter: (n) => `to_months(CAST(${n} AS INTEGER) * 3)`,
  month: (n) => `to_months(CAST(${n} AS INTEGER))`,
  week: (n) => `to_weeks(CAST(${n} AS INTEGER))`,
  day: (n) => `to_days(CAST(${n} AS INTEGER))`,
  hour: (n) => `to_hours(CAST(${n} AS BIGINT))`,
  minute: (n) => `to_minutes(CAST(${n} AS BIGINT))`,
  second: (n) => `to_seconds(CAST(${n} AS DOUBLE))`,
  millisecond: (n) => `to_milliseconds(CAST(${n} AS DOUBLE))`,
  microsecond: (n) => `to_microseconds(CAST(${n} AS BIGINT))`,
  nanosecond: (n) => `to_microseconds(CAST(${n} AS BIGINT) // 1000)`,
};

type Range = [number, number];
type FnHandler = (x: ExprTranslator, args: Range[], name: string) => string;

/** Snowflake datetime format → strptime/strftime format. */
export function datetimeFormat(fmt: string): string {
  const parts: Array<[RegExp, string]> = [
    [/^"([^"]*)"/, ''],
    [/^YYYY/i, '%Y'],
    [/^YY/i, '%y'],
    [/^MMMM/i, '%B'],
    [/^MON/i, '%b'],
    [/^MM/i, '%m'],
    [/^DD/i, '%d'],
    [/^DY/i, '%a'],
    [/^HH24/i, '%H'],
    [/^HH12/i, '%I'],
    [/^HH/i, '%I'],
    [/^AM|^PM/i, '%p'],
    [/^MI/i, '%M'],
    [/^SS/i, '%S'],
    [/^FF[1-3]/i, '%g'],
    [/^FF[4-6]?/i, '%f'],
    [/^FF[7-9]/i, '%n'],
    [/^TZH:TZM/i, '%z'],
    [/^TZHTZM/i, '%z'],
    [/^TZH/i, '%z'],
  ];
  let out = '';
  let rest = fmt;
  outer: while (rest.length) {
    for (const [re, rep] of parts) {
      const m = rest.match(re);
      if (!m) continue;
      out += m[1] !== undefined ? m[1].replaceAll('%', '%%') : rep;
      rest = rest.slice(m[0].length);
      continue outer;
    }
    out += rest[0] === '%' ? '%%' : rest[0];
    rest = rest.slice(1);
  }
  return out;
}

const cast =
  (type: string, tryCast = false): FnHandler =>
  (x, a, name) => {
    if (a.length === 2) {
      const f = x.tokens[a[1]![0]];
      if (f?.kind !== 'str' || a[1]![1] - a[1]![0] !== 1)
        throw unsupported(`${name} with a non-literal format argument`);
      if (type === 'VARCHAR') return `strftime(${x.range(a[0]!)}, ${sqlString(datetimeFormat(f.value))})`;
      return `CAST(${tryCast ? 'try_strptime' : 'strptime'}(${x.range(a[0]!)}, ${sqlString(datetimeFormat(f.value))}) AS ${type})`;
    }
    if (a.length !== 1) throw unsupported(`${name} with ${a.length} arguments`);
    const only = a[0]![1] - a[0]![0] === 1 ? x.tokens[a[0]![0]] : undefined;
    if ((type === 'TIMESTAMPTZ' || type === 'TIMESTAMP') && only?.kind === 'str') {
      return `${tryCast ? 'TRY_CAST' : 'CAST'}(${sqlString(normalizeTimestampText(only.value))} AS ${type})`;
    }
    const arg = x.range(a[0]!);
    if ((type === 'TIMESTAMPTZ' || type === 'TIMESTAMP') && only?.kind === 'bind') x.timestampBinds.add(x.lastBind);
    return `${tryCast ? 'TRY_CAST' : 'CAST'}(${arg} AS ${type})`;
  };

const SPACED_OFFSET = /^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)\s+([+-]\d\d(?::?\d\d)?)$/;
/** Snowflake reads '2019-02-06 00:00:38 +0000'; DuckDB (without ICU) needs the offset attached. */
export function normalizeTimestampText(v: string): string {
  return v.length < 40 && SPACED_OFFSET.test(v) ? v.replace(SPACED_OFFSET, '$1$2') : v;
}
const rename =
  (to: string): FnHandler =>
  (x, a) =>
    `${to}(${a.map((r) => x.range(r)).join(', ')})`;
const argc = (name: string, a: Range[], ...allowed: number[]) => {
  if (!allowed.includes(a.length))
    throw sfError(
      'syntax',
      `SQL compilation error:\nerror line 0 at position 0\nnot enough arguments for function [${name}], expected ${allowed.join(' or ')}, got ${a.length}`,
    );
};
const toNumber =
  (tryCast: boolean): FnHandler =>
  (x, a, name) => {
    argc(name, a, 1, 2, 3);
    if (a.length === 2) throw unsupported(`${name} with a format argument`);
    const p = a.length === 3 ? x.tokens[a[1]![0]]?.value : '38';
    const s = a.length === 3 ? x.tokens[a[2]![0]]?.value : '0';
    const type = s === '0' ? (Number(p) <= 18 ? 'BIGINT' : 'HUGEINT') : `DECIMAL(${p},${s})`;
    // Snowflake rounds '1.5' to 2 when the scale is 0; casting through DECIMAL(38,s) does the same.
    const inner = s === '0' ? `CAST(${x.range(a[0]!)} AS DECIMAL(38,0))` : x.range(a[0]!);
    return `${tryCast ? 'TRY_CAST' : 'CAST'}(${tryCast ? `TRY_CAST(${x.range(a[0]!)} AS DECIMAL(38,${s}))` : inner} AS ${type})`;
  };
const partArg = (x: ExprTranslator, r: Range, name: string): string => {
  const tok = x.tokens[r[0]];
  const key = tok?.kind === 'str' ? tok.value.toUpperCase() : tok?.kind === 'word' ? tok.value : '';
  const part = DATE_PARTS[key];
  if (!part || r[1] - r[0] !== 1)
    throw sfError('syntax', `SQL compilation error:\ninvalid date part '${key}' for ${name}`);
  return part;
};

const FUNCTIONS: Record<string, FnHandler> = {
  EQUAL_NULL: (x, a, n) => (argc(n, a, 2), `(${x.range(a[0]!)} IS NOT DISTINCT FROM ${x.range(a[1]!)})`),
  IFF: (x, a, n) => (argc(n, a, 3), `(CASE WHEN ${x.range(a[0]!)} THEN ${x.range(a[1]!)} ELSE ${x.range(a[2]!)} END)`),
  NVL: (x, a, n) => (argc(n, a, 2), `COALESCE(${x.range(a[0]!)}, ${x.range(a[1]!)})`),
  NVL2: (x, a, n) => (
    argc(n, a, 3), `(CASE WHEN ${x.range(a[0]!)} IS NOT NULL THEN ${x.range(a[1]!)} ELSE ${x.range(a[2]!)} END)`
  ),
  ZEROIFNULL: (x, a, n) => (argc(n, a, 1), `COALESCE(${x.range(a[0]!)}, 0)`),
  NULLIFZERO: (x, a, n) => (argc(n, a, 1), `NULLIF(${x.range(a[0]!)}, 0)`),
  DIV0: (x, a, n) => (
    argc(n, a, 2), `(CASE WHEN ${x.range(a[1]!)} = 0 THEN 0 ELSE ${x.range(a[0]!)} / ${x.range(a[1]!)} END)`
  ),
  DIV0NULL: (x, a, n) => (
    argc(n, a, 2),
    `(CASE WHEN COALESCE(${x.range(a[1]!)}, 0) = 0 THEN 0 ELSE ${x.range(a[0]!)} / ${x.range(a[1]!)} END)`
  ),
  TO_TIMESTAMP_TZ: cast('TIMESTAMPTZ'),
  TO_TIMESTAMP_LTZ: cast('TIMESTAMPTZ'),
  TO_TIMESTAMP_NTZ: cast('TIMESTAMP'),
  TO_TIMESTAMP: cast('TIMESTAMP'),
  TRY_TO_TIMESTAMP_TZ: cast('TIMESTAMPTZ', true),
  TRY_TO_TIMESTAMP_LTZ: cast('TIMESTAMPTZ', true),
  TRY_TO_TIMESTAMP_NTZ: cast('TIMESTAMP', true),
  TRY_TO_TIMESTAMP: cast('TIMESTAMP', true),
  TO_DATE: cast('DATE'),
  TRY_TO_DATE: cast('DATE', true),
  TO_TIME: cast('TIME'),
  TO_NUMBER: toNumber(false),
  TO_DECIMAL: toNumber(false),
  TO_NUMERIC: toNumber(false),
  TRY_TO_NUMBER: toNumber(true),
  TRY_TO_DECIMAL: toNumber(true),
  TRY_TO_NUMERIC: toNumber(true),
  TO_DOUBLE: cast('DOUBLE'),
  TRY_TO_DOUBLE: cast('DOUBLE', true),
  TO_BOOLEAN: cast('BOOLEAN'),
  TRY_TO_BOOLEAN: cast('BOOLEAN', true),
  TO_VARCHAR: cast('VARCHAR'),
  TO_CHAR: cast('VARCHAR'),
  PARSE_JSON: cast('JSON'),
  TRY_PARSE_JSON: cast('JSON', true),
  TO_VARIANT: rename('to_json'),
  TO_JSON: cast('VARCHAR'),
  OBJECT_CONSTRUCT: rename('json_object'),
  ARRAY_CONSTRUCT: (x, a) => `to_json(list_value(${a.map((r) => x.range(r)).join(', ')}))`,
  ARRAY_SIZE: rename('json_array_length'),
  GETDATE: (_x, a, n) => (argc(n, a, 0), 'CURRENT_TIMESTAMP'),
  SYSTIMESTAMP: (_x, a, n) => (argc(n, a, 0), 'CURRENT_TIMESTAMP'),
  LOCALTIMESTAMP: () => 'CURRENT_TIMESTAMP',
  CURRENT_TIMESTAMP: () => 'CURRENT_TIMESTAMP',
  SYSDATE: (_x, a, n) => (argc(n, a, 0), "CAST(timezone('UTC', CURRENT_TIMESTAMP) AS TIMESTAMP)"),
  CURRENT_DATE: () => 'CURRENT_DATE',
  CURRENT_TIME: () => 'CURRENT_TIME',
  CURRENT_DATABASE: (x) => lit(x.opts.names.database),
  CURRENT_SCHEMA: (x) => lit(x.opts.names.schema),
  CURRENT_USER: (x) => lit(x.opts.names.user),
  CURRENT_ROLE: (x) => lit(x.opts.names.role),
  CURRENT_WAREHOUSE: (x) => lit(x.opts.names.warehouse),
  CURRENT_ACCOUNT: () => lit('LOCAL'),
  CURRENT_REGION: () => lit('LOCAL'),
  CURRENT_VERSION: () => lit('8.0.0 (snowflake-local)'),
  DATEADD: (x, a, n) => {
    argc(n, a, 3);
    const part = partArg(x, a[0]!, n);
    const add = ADD_UNIT[part];
    if (!add) throw sfError('syntax', `SQL compilation error:\ninvalid date part '${part}' for ${n}`);
    return `(${x.range(a[2]!)} + ${add(x.range(a[1]!))})`;
  },
  DATEDIFF: (x, a, n) => (argc(n, a, 3), `date_diff('${partArg(x, a[0]!, n)}', ${x.range(a[1]!)}, ${x.range(a[2]!)})`),
  DATE_TRUNC: (x, a, n) => (argc(n, a, 2), `date_trunc('${partArg(x, a[0]!, n)}', ${x.range(a[1]!)})`),
  DATE_PART: (x, a, n) => (argc(n, a, 2), `date_part('${partArg(x, a[0]!, n)}', ${x.range(a[1]!)})`),
  REGEXP_LIKE: rename('regexp_full_match'),
  RLIKE: rename('regexp_full_match'),
  BOOLAND_AGG: rename('bool_and'),
  BOOLOR_AGG: rename('bool_or'),
  STARTSWITH: rename('starts_with'),
  ENDSWITH: rename('ends_with'),
  CHARINDEX: (x, a, n) => (argc(n, a, 2), `instr(${x.range(a[1]!)}, ${x.range(a[0]!)})`),
  UUID_STRING: (_x, a, n) => (argc(n, a, 0), 'CAST(gen_random_uuid() AS VARCHAR)'),
  SHA2: (x, a, n) => {
    argc(n, a, 1, 2);
    if (a.length === 2 && x.tokens[a[1]![0]]?.value !== '256')
      throw unsupported('SHA2 with a digest size other than 256');
    return `sha256(${x.range(a[0]!)})`;
  },
  SHA2_HEX: (x, a) => `sha256(${x.range(a[0]!)})`,
  FLATTEN: () => {
    throw unsupported('FLATTEN');
  },
  IDENTIFIER: () => {
    throw unsupported('IDENTIFIER()');
  },
  OBJECT_INSERT: () => {
    throw unsupported('OBJECT_INSERT');
  },
};
FUNCTIONS.TIMEADD = FUNCTIONS.DATEADD!;
FUNCTIONS.TIMESTAMPADD = FUNCTIONS.DATEADD!;
FUNCTIONS.TIMEDIFF = FUNCTIONS.DATEDIFF!;
FUNCTIONS.TIMESTAMPDIFF = FUNCTIONS.DATEDIFF!;
FUNCTIONS.IFNULL = FUNCTIONS.NVL!;

/** Words after FROM VALUES (...) that start the next clause, not an alias. */
const JOIN_WORDS = ['JOIN', 'ON', 'LEFT', 'RIGHT', 'INNER', 'FULL', 'CROSS', 'NATURAL', 'USING', 'LATERAL'];

const lit = (v: string | null): string => (v === null ? 'NULL' : sqlString(v));

export class ExprTranslator {
  private nextBind = 0;
  /** Binds whose text is read as a timestamp: their `... +0000` offsets are normalized for DuckDB. */
  readonly timestampBinds = new Set<number>();
  lastBind = 0;
  constructor(
    readonly tokens: Token[],
    readonly opts: TranslateOptions,
    /** How a bind placeholder is written out; receives the 1-based bind position. */
    private readonly bindRef: (n: number) => string = (n) => `$${n}`,
  ) {}

  range([from, to]: Range): string {
    const t = this.tokens;
    const out: string[] = [];
    for (let i = from; i < to; i++) {
      const tok = t[i]!;
      switch (tok.kind) {
        case 'str':
          out.push(
            sqlString(
              isOp(t[i + 1], '::') && /^TIMESTAMP|^DATETIME/.test(t[i + 2]?.value ?? '')
                ? normalizeTimestampText(tok.value)
                : tok.value,
            ),
          );
          break;
        case 'qid':
          out.push(quoteIdent(tok.value));
          break;
        case 'num':
          out.push(tok.text);
          break;
        case 'bind': {
          const n = tok.value ? Number(tok.value) : ++this.nextBind;
          out.push(this.bindRef(n));
          this.lastBind = n;
          if (isOp(t[i + 1], '::') && /^TIMESTAMP|^DATETIME/.test(t[i + 2]?.value ?? '')) this.timestampBinds.add(n);
          break;
        }
        case 'op':
          if (tok.text === '::') {
            const { sql, next } = mapType(t, i + 1);
            out.push('::', sql);
            i = next - 1;
          } else if (tok.text === ':' && (t[i + 1]?.kind === 'word' || t[i + 1]?.kind === 'qid')) {
            i = this.variantPath(out, i);
          } else out.push(tok.text);
          break;
        case 'word':
          i = this.word(out, i);
          break;
      }
    }
    return out.join(' ');
  }

  /** A word at i: a function call, a keyword with its own translation, or an identifier. Returns the last index used. */
  private word(out: string[], i: number): number {
    const t = this.tokens;
    const tok = t[i]!;
    if (tok.value === 'SYSTEM$PIPE_STATUS' && isOp(t[i + 1], '(')) return this.pipeStatus(out, i);
    if (tok.value === 'TABLE' && isOp(t[i + 1], '(') && this.copyHistoryAt(i + 2)) return this.copyHistory(out, i);
    if (tok.value.includes('$') && isOp(t[i + 1], '(')) throw unsupported(`${tok.value}()`);
    const isCall = isOp(t[i + 1], '(') && !isOp(t[i - 1], '.');
    if (isCall && (tok.value === 'CAST' || tok.value === 'TRY_CAST')) return this.cast(out, i);
    if (isCall && (tok.value === 'LISTAGG' || tok.value === 'ARRAY_AGG')) return this.orderedAggregate(out, i);
    const handler = FUNCTIONS[tok.value];
    if (handler && isCall) {
      const close = matchParen(t, i + 1);
      const args = close === i + 2 ? [] : splitTopLevel(t, i + 2, close);
      out.push(handler(this, args, tok.value));
      return close;
    }
    if (!isCall && ['CURRENT_TIMESTAMP', 'LOCALTIMESTAMP', 'SYSTIMESTAMP'].includes(tok.value)) {
      out.push('CURRENT_TIMESTAMP');
      return i;
    }
    if (tok.value === 'VALUES' && isWord(t[i - 1], 'FROM', 'JOIN') && isOp(t[i + 1], '('))
      return this.fromValues(out, i);
    if (tok.value === 'NEXTVAL' && isOp(t[i - 1], '.')) throw unsupported('Sequences (seq.NEXTVAL)');
    out.push(tok.value);
    return i;
  }

  /** CAST(x AS type) / TRY_CAST(...) with the type mapped to DuckDB's. */
  private cast(out: string[], i: number): number {
    const t = this.tokens;
    const close = matchParen(t, i + 1);
    let asAt = -1;
    let depth = 0;
    for (let k = i + 2; k < close; k++) {
      const x = t[k]!;
      if (isOp(x, '(')) depth++;
      else if (isOp(x, ')')) depth--;
      else if (depth === 0 && isWord(x, 'AS')) asAt = k;
    }
    if (asAt < 0) throw sfError('syntax', 'SQL compilation error:\nCAST without AS');
    const { sql } = mapType(t, asAt + 1);
    out.push(`${t[i]!.value}(${this.range([i + 2, asAt])} AS ${sql})`);
    return close;
  }

  /** LISTAGG(x, ',') WITHIN GROUP (ORDER BY y) → string_agg(x, ',' ORDER BY y); ARRAY_AGG likewise. */
  private orderedAggregate(out: string[], i: number): number {
    const t = this.tokens;
    const close = matchParen(t, i + 1);
    let inner = this.range([i + 2, close]);
    let end = close;
    if (isWord(t[close + 1], 'WITHIN') && isWord(t[close + 2], 'GROUP') && isOp(t[close + 3], '(')) {
      end = matchParen(t, close + 3);
      inner += ` ${this.range([close + 4, end])}`;
    }
    out.push(`${t[i]!.value === 'LISTAGG' ? 'string_agg' : 'array_agg'}(${inner})`);
    return end;
  }

  /** FROM VALUES (...), (...) [AS] [alias [(cols)]]: Snowflake names the columns COLUMN1, ...; DuckDB says col0, ... */
  private fromValues(out: string[], i: number): number {
    const t = this.tokens;
    let k = i + 1;
    const tuples: string[] = [];
    let width = 0;
    while (isOp(t[k], '(')) {
      const close = matchParen(t, k);
      width = Math.max(width, splitTopLevel(t, k + 1, close).length);
      tuples.push(`(${this.range([k + 1, close])})`);
      k = close + 1;
      if (isOp(t[k], ',') && isOp(t[k + 1], '(')) k++;
      else break;
    }
    let alias = '"VALUES"';
    if (isWord(t[k], 'AS')) k++;
    const next = t[k];
    if (
      (next?.kind === 'word' && !SELECT_END.has(next.value) && !isWord(next, ...JOIN_WORDS)) ||
      next?.kind === 'qid'
    ) {
      alias = next.kind === 'qid' ? quoteIdent(next.value) : next.value;
      k++;
    }
    let cols = Array.from({ length: width }, (_, c) => `COLUMN${c + 1}`).join(', ');
    if (isOp(t[k], '(')) {
      const close = matchParen(t, k);
      cols = this.range([k + 1, close]);
      k = close + 1;
    }
    out.push(`(VALUES ${tuples.join(', ')}) AS ${alias}(${cols})`);
    return k - 1;
  }

  /** SYSTEM$PIPE_STATUS('<pipe>') → the status JSON as a string literal. */
  private pipeStatus(out: string[], i: number): number {
    const t = this.tokens;
    const close = matchParen(t, i + 1);
    const arg = t[i + 2];
    if (close !== i + 3 || arg?.kind !== 'str')
      throw sfError(
        'syntax',
        "SQL compilation error:\nSYSTEM$PIPE_STATUS takes the pipe's name as one string literal.",
      );
    if (!this.opts.snowpipe) throw unsupported('SYSTEM$PIPE_STATUS');
    out.push(sqlString(this.opts.snowpipe.pipeStatus(arg.value, this.opts.names)));
    return close;
  }

  /** Index of COPY_HISTORY in `[db.]INFORMATION_SCHEMA.COPY_HISTORY(` / `COPY_HISTORY(` at t[k], or 0. */
  private copyHistoryAt(k: number): number {
    const t = this.tokens;
    while ((t[k]?.kind === 'word' || t[k]?.kind === 'qid') && isOp(t[k + 1], '.')) k += 2;
    return isWord(t[k], 'COPY_HISTORY') && isOp(t[k + 1], '(') ? k : 0;
  }

  /** TABLE([db.][INFORMATION_SCHEMA.]COPY_HISTORY(NAME => value, ...)) → a subquery over the load history. */
  private copyHistory(out: string[], i: number): number {
    const t = this.tokens;
    const at = this.copyHistoryAt(i + 2);
    const qualifier = t
      .slice(i + 2, at)
      .filter((x) => x.kind === 'word' || x.kind === 'qid')
      .map((x) => x.value);
    const db = qualifier.length >= 2 ? qualifier[0]! : this.opts.names.database;
    const close = matchParen(t, at + 1);
    const args: Record<string, string> = {};
    let tableName: string | null = null;
    for (const [a, b] of close === at + 2 ? [] : splitTopLevel(t, at + 2, close)) {
      if (t[a]?.kind !== 'word' || !isOp(t[a + 1], '=>'))
        throw sfError('syntax', 'SQL compilation error:\nCOPY_HISTORY takes named arguments: NAME => value.');
      args[t[a]!.value] = this.range([a + 2, b]);
      if (t[a]!.value === 'TABLE_NAME' && b - a === 3 && t[a + 2]!.kind === 'str') tableName = t[a + 2]!.value;
    }
    if (!this.opts.snowpipe || !db) throw unsupported('COPY_HISTORY');
    out.push(this.opts.snowpipe.copyHistorySql(args, tableName, db, this.opts.names));
    return matchParen(t, i + 1);
  }

  /**
   * `col:a.b[0]` → json_extract(col, '$.a.b[0]'); with a `::type` cast the value is extracted as
   * text first, so `v:name::string` gives `abc` and not `"abc"`, as in Snowflake.
   */
  private variantPath(out: string[], colon: number): number {
    const t = this.tokens;
    const col: string[] = [out.pop() ?? ''];
    while (out[out.length - 1] === '.' && out.length >= 2) {
      const dot = out.pop()!;
      col.unshift(out.pop()!, dot);
    }
    const colSql = col.join('');
    let k = colon + 1;
    let jsonPath = '$';
    const key = (tok: Token) => (tok.kind === 'qid' ? tok.value : tok.text);
    jsonPath += `.${JSON.stringify(key(t[k]!))}`;
    k++;
    for (;;) {
      if (isOp(t[k], '.') && (t[k + 1]?.kind === 'word' || t[k + 1]?.kind === 'qid')) {
        jsonPath += `.${JSON.stringify(key(t[k + 1]!))}`;
        k += 2;
      } else if (isOp(t[k], '[') && (t[k + 1]?.kind === 'num' || t[k + 1]?.kind === 'str') && isOp(t[k + 2], ']')) {
        jsonPath += t[k + 1]!.kind === 'num' ? `[${t[k + 1]!.text}]` : `.${JSON.stringify(t[k + 1]!.value)}`;
        k += 3;
      } else break;
    }
    if (isOp(t[k], '::')) {
      const { sql, next } = mapType(t, k + 1);
      const text = `json_extract_string(${colSql}, ${sqlString(jsonPath)})`;
      out.push(
        sql === 'VARCHAR'
          ? text
          : sql === 'JSON'
            ? `json_extract(${colSql}, ${sqlString(jsonPath)})`
            : `CAST(${text} AS ${sql})`,
      );
      return next - 1;
    }
    out.push(`json_extract(${colSql}, ${sqlString(jsonPath)})`);
    return k - 1;
  }

  all(): string {
    return this.range([0, this.tokens.length]);
  }
}

// ---------------------------------------------------------------------------------------------
// Statements

/** Reads a possibly qualified object name at tokens[i]. */
export function readName(t: Token[], i: number): { parts: string[]; next: number } {
  const parts: string[] = [];
  let k = i;
  for (;;) {
    const tok = t[k];
    if (!tok || (tok.kind !== 'word' && tok.kind !== 'qid')) {
      throw sfError(
        'syntax',
        `SQL compilation error:\nsyntax error: object name expected${tok ? ` near '${tok.text}'` : ''}`,
      );
    }
    parts.push(tok.kind === 'word' ? tok.value : tok.value);
    k++;
    if (isOp(t[k], '.')) k++;
    else break;
  }
  return { parts, next: k };
}

export function resolveTable(parts: string[], names: SessionNames): TableRef {
  const table = parts[parts.length - 1]!;
  const schema = parts.length >= 2 ? parts[parts.length - 2]! : names.schema;
  const database = parts.length >= 3 ? parts[parts.length - 3]! : names.database;
  if (!database || !schema) {
    throw sfError(
      'objectMissing',
      'SQL compilation error:\nCannot perform operation. This session does not have a current database/schema. Call USE DATABASE/USE SCHEMA first.',
    );
  }
  return { database, schema, table };
}

/** The error for a statement kind snowflake-local refuses outright (outside a pipe), or null. */
function refusal(w0: string): Error | null {
  switch (w0) {
    case 'COPY':
      return unsupported('COPY INTO', 'Load data with INSERT and binds instead.');
    case 'PUT':
    case 'GET':
    case 'LIST':
    case 'LS':
    case 'REMOVE':
    case 'RM':
      return unsupported(`${w0} (stage file transfer)`);
    case 'DECLARE':
      return unsupported('Snowflake Scripting blocks (DECLARE ... BEGIN ... END)');
    case 'CALL':
    case 'EXECUTE':
      return unsupported(`${w0} (stored procedures and tasks)`);
  }
  return null;
}

export function translateStatement(t: Token[], opts: TranslateOptions, sourceText: string): Plan {
  const w0 = t[0]?.kind === 'word' ? t[0].value : '';
  const w1 = t[1]?.kind === 'word' ? t[1].value : '';
  const x = new ExprTranslator(t, opts);
  if (snowpipeKind(t)) return { kind: 'snowpipe', tokens: t, show: w0 === 'SHOW' };
  const refused = refusal(w0);
  if (refused) throw refused;
  switch (w0) {
    case 'BEGIN':
    case 'START':
      if (w0 === 'START' && w1 !== 'TRANSACTION') break;
      if (w0 === 'BEGIN' && t.length > 1 && !['TRANSACTION', 'WORK', 'NAME'].includes(w1)) {
        throw unsupported('Snowflake Scripting blocks (BEGIN ... END)');
      }
      return { kind: 'txn', op: 'begin' };
    case 'COMMIT':
      return { kind: 'txn', op: 'commit' };
    case 'ROLLBACK':
    case 'ABORT':
      return { kind: 'txn', op: 'rollback' };
    case 'USE':
      return planUse(t);
    case 'ALTER':
      if (w1 === 'SESSION') return planAlterSession(t);
      if (w1 === 'TABLE') return planAlterTable(t, opts);
      if (w1 === 'WAREHOUSE') return { kind: 'use', other: 'warehouse' };
      throw unsupported(`ALTER ${w1}`);
    case 'SELECT':
    case 'WITH':
    case 'VALUES':
    case '(': {
      const sql = nameSelectItems(t, x, sourceText);
      return {
        kind: 'exec',
        type: 'query',
        statementTypeId: STATEMENT_TYPE.select,
        sql,
        timestampBinds: [...x.timestampBinds],
      };
    }
    case 'INSERT':
      return planInsert(t, opts);
    case 'UPDATE':
    case 'DELETE':
    case 'MERGE':
    case 'TRUNCATE':
      return planDml(t, w0, opts, x);
    case 'CREATE':
      return planCreate(t, x);
    case 'DROP':
      return planDrop(t, x);
    case 'DESCRIBE':
    case 'DESC': {
      const i = isWord(t[1], 'TABLE', 'VIEW') ? 2 : 1;
      return { kind: 'describe', table: resolveTable(readName(t, i).parts, opts.names) };
    }
    case 'SHOW':
      return planShow(t);
    case 'COMMENT':
      return { kind: 'use', other: 'comment' };
    case 'GRANT':
    case 'REVOKE':
      // No roles here (USE ROLE is accepted the same way): the grants that setup-snowflake applies
      // after the DDL run, and change nothing.
      return { kind: 'use', other: 'grant' };
    case 'EXPLAIN':
      return { kind: 'exec', type: 'query', statementTypeId: STATEMENT_TYPE.select, sql: x.all() };
  }
  if (t[0]?.kind === 'op' && t[0].text === '(') {
    return { kind: 'exec', type: 'query', statementTypeId: STATEMENT_TYPE.select, sql: x.all() };
  }
  throw sfError(
    'syntax',
    `SQL compilation error:\nsyntax error line 1 at position 0 unexpected '${t[0]?.text ?? ''}'.`,
  );
}

function planUse(t: Token[]): Plan {
  let i = 1;
  const kind = isWord(t[i], 'DATABASE', 'SCHEMA', 'WAREHOUSE', 'ROLE', 'SECONDARY') ? t[i++]!.value : null;
  if (kind === 'WAREHOUSE' || kind === 'ROLE' || kind === 'SECONDARY')
    return { kind: 'use', other: kind.toLowerCase() };
  const { parts } = readName(t, i);
  if (kind === 'DATABASE') return { kind: 'use', database: parts[0]! };
  if (kind === 'SCHEMA') {
    return parts.length > 1
      ? { kind: 'use', database: parts[0]!, schema: parts[1]! }
      : { kind: 'use', schema: parts[0]! };
  }
  return parts.length > 1
    ? { kind: 'use', database: parts[0]!, schema: parts[1]! }
    : { kind: 'use', database: parts[0]! };
}

function planAlterSession(t: Token[]): Plan {
  const set: Record<string, string> = {};
  const unset: string[] = [];
  let i = 2;
  const mode = isWord(t[i], 'UNSET') ? 'unset' : 'set';
  i++;
  while (i < t.length) {
    const name = t[i]!;
    if (name.kind !== 'word') {
      i++;
      continue;
    }
    if (mode === 'unset') {
      unset.push(name.value);
      i++;
      continue;
    }
    if (!isOp(t[i + 1], '=')) throw sfError('syntax', 'SQL compilation error:\nALTER SESSION SET expects NAME = value');
    const v = t[i + 2];
    set[name.value] = v ? (v.kind === 'str' ? v.value : v.kind === 'word' ? v.value : v.text) : '';
    i += 3;
  }
  return { kind: 'alterSession', set, unset };
}

function planShow(t: Token[]): Plan {
  let i = 1;
  if (isWord(t[i], 'TERSE')) i++;
  const what = t[i]?.value;
  if (what !== 'TABLES' && what !== 'SCHEMAS' && what !== 'DATABASES') throw unsupported(`SHOW ${what ?? ''}`);
  i++;
  let like: string | null = null;
  let inName: string[] | null = null;
  if (isWord(t[i], 'LIKE') && t[i + 1]?.kind === 'str') {
    like = t[i + 1]!.value;
    i += 2;
  }
  if (isWord(t[i], 'IN')) {
    i++;
    if (isWord(t[i], 'DATABASE', 'SCHEMA', 'ACCOUNT')) i++;
    if (t[i]) inName = readName(t, i).parts;
  }
  return { kind: 'show', what: what.toLowerCase() as 'tables' | 'schemas' | 'databases', like, in: inName };
}

/**
 * Gives un-aliased expressions in the outermost select list the name Snowflake would: the
 * expression text in upper case (DuckDB would call `count(*)` "count_star()").
 */
function nameSelectItems(t: Token[], x: ExprTranslator, source: string): string {
  if (!isWord(t[0], 'SELECT')) return x.all();
  let i = 1;
  if (isWord(t[i], 'DISTINCT', 'ALL')) i++;
  if (isWord(t[i], 'TOP') && t[i + 1]?.kind === 'num') i += 2;
  let end = i;
  let depth = 0;
  for (; end < t.length; end++) {
    const tok = t[end]!;
    if (isOp(tok, '(') || isOp(tok, '[')) depth++;
    else if (isOp(tok, ')') || isOp(tok, ']')) depth--;
    else if (depth === 0 && tok.kind === 'word' && SELECT_END.has(tok.value) && !isWord(t[end - 1], 'WITHIN')) break;
  }
  const items = splitTopLevel(t, i, end);
  const head = x.range([0, i]);
  const parts: string[] = [];
  for (const [a, b] of items) {
    const last = t[b - 1]!;
    const prev = t[b - 2];
    const expr = x.range([a, b]);
    const single = b - a === 1 && (last.kind === 'word' || last.kind === 'qid');
    const star = isOp(last, '*') && (b - a === 1 || isOp(prev, '.'));
    const dotted =
      b - a >= 3 &&
      (last.kind === 'word' || last.kind === 'qid') &&
      isOp(prev, '.') &&
      t.slice(a, b).every((k) => k.kind === 'word' || k.kind === 'qid' || isOp(k, '.'));
    const explicitAlias = b - a >= 3 && isWord(prev, 'AS');
    const implicitAlias =
      b - a >= 2 &&
      (last.kind === 'qid' || (last.kind === 'word' && !NOT_ALIAS.has(last.value))) &&
      !!prev &&
      !isOp(prev, '.') &&
      (isOp(prev, ')') ||
        prev.kind === 'num' ||
        prev.kind === 'str' ||
        prev.kind === 'qid' ||
        (prev.kind === 'word' && !NOT_ALIAS_BEFORE.has(prev.value)));
    if (single || star || dotted || explicitAlias || implicitAlias) parts.push(expr);
    else {
      const text = source.slice(t[a]!.pos, last.pos + last.text.length).toUpperCase();
      parts.push(`${expr} AS ${quoteIdent(text)}`);
    }
  }
  return `${head} ${parts.join(', ')} ${x.range([end, t.length])}`;
}

function bindNumberAt(t: Token[], idx: number): number {
  const tok = t[idx]!;
  if (tok.value) return Number(tok.value);
  let n = 0;
  for (let i = 0; i <= idx; i++) if (t[i]!.kind === 'bind' && !t[i]!.value) n++;
  return n;
}

function planInsert(t: Token[], opts: TranslateOptions): Plan {
  let i = 1;
  const overwrite = isWord(t[i], 'OVERWRITE');
  if (overwrite) i++;
  if (isWord(t[i], 'ALL', 'FIRST')) throw unsupported('Multi-table INSERT');
  if (!isWord(t[i], 'INTO')) throw sfError('syntax', 'SQL compilation error:\nINSERT expects INTO');
  i++;
  const { parts, next } = readName(t, i);
  const ref = resolveTable(parts, opts.names);
  // Written as the user wrote it, so session temporary tables resolve as in Snowflake.
  const written = parts.map(quoteIdent).join('.');
  let k = next;
  let cols = '';
  let columns: string[] | null = null;
  const x = new ExprTranslator(t, opts);
  if (isOp(t[k], '(')) {
    const close = matchParen(t, k);
    cols = `(${x.range([k + 1, close])})`;
    columns = splitTopLevel(t, k + 1, close).map(([a]) => t[a]!.value);
    k = close + 1;
  }
  // Which bind feeds which target column (by position), so timestamp text can be normalized.
  const binds: Array<{ bind: number; position: number }> = [];
  if (isWord(t[k], 'VALUES')) {
    let v = k + 1;
    while (isOp(t[v], '(')) {
      const close = matchParen(t, v);
      splitTopLevel(t, v + 1, close).forEach(([a, b], position) => {
        if (b - a === 1 && t[a]!.kind === 'bind') binds.push({ bind: bindNumberAt(t, a), position });
      });
      v = close + 1;
      if (isOp(t[v], ',')) v++;
    }
  }
  const base = {
    kind: 'exec' as const,
    type: 'insert' as const,
    statementTypeId: STATEMENT_TYPE.insert,
    insertTarget: { table: ref, columns, binds },
    ...(overwrite ? { lock: ref, preSql: `DELETE FROM ${written}` } : {}),
  };
  const target = `INSERT INTO ${written} ${cols}`;
  if (opts.bindMode === 'array' && isWord(t[k], 'VALUES') && isOp(t[k + 1], '(')) {
    const close = matchParen(t, k + 1);
    if (close === t.length - 1) {
      // One VALUES row over array binds: a single set-based INSERT ... SELECT over unnested lists.
      // Plain `?` values stay VARCHAR so the INSERT casts them to the column types.
      const n = opts.bindCount ?? 0;
      const xa = new ExprTranslator(t, opts, (b) => quoteIdent(`__B${b}`));
      const items = splitTopLevel(t, k + 2, close).map((r) => xa.range(r));
      const lists: string[] = [];
      for (let b = 1; b <= n; b++) lists.push(`unnest(from_json($${b}, '["VARCHAR"]')) AS ${quoteIdent(`__B${b}`)}`);
      return {
        ...base,
        arrayInsert: true,
        arrayInsertHead: `${target} SELECT ${items.join(', ')} FROM `,
        timestampBinds: [...xa.timestampBinds],
        sql: `${target} SELECT ${items.join(', ')} FROM (SELECT ${lists.join(', ')}) AS "__BINDS"`,
      };
    }
  }
  const sql = `${target} ${x.range([k, t.length])}`;
  return { ...base, timestampBinds: [...x.timestampBinds], sql };
}

function planDml(t: Token[], w0: string, opts: TranslateOptions, x: ExprTranslator): Plan {
  if (w0 === 'TRUNCATE') {
    let i = 1;
    if (isWord(t[i], 'TABLE')) i++;
    const ifExists = isWord(t[i], 'IF') && isWord(t[i + 1], 'EXISTS');
    if (ifExists) i += 2;
    const { parts } = readName(t, i);
    const ref = resolveTable(parts, opts.names);
    return {
      kind: 'exec',
      type: 'ddl',
      statementTypeId: STATEMENT_TYPE.delete,
      lock: ref,
      sql: `DELETE FROM ${parts.map(quoteIdent).join('.')}`,
      status: 'Statement executed successfully.',
    };
  }
  const nameAt = w0 === 'UPDATE' ? 1 : 2;
  if (w0 !== 'UPDATE' && !isWord(t[1], w0 === 'MERGE' ? 'INTO' : 'FROM')) {
    throw sfError('syntax', `SQL compilation error:\n${w0} expects ${w0 === 'MERGE' ? 'INTO' : 'FROM'}`);
  }
  const { parts } = readName(t, nameAt);
  const ref = resolveTable(parts, opts.names);
  // DuckDB refuses `SET alias.col = ...`; Snowflake allows it. Drop the qualifier of SET targets.
  const drop = new Set<number>();
  let depth = 0;
  let inSet = false;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    if (isOp(tok, '(')) depth++;
    else if (isOp(tok, ')')) depth--;
    if (depth !== 0) continue;
    if (isWord(tok, 'SET')) inSet = true;
    else if (isWord(tok, 'FROM', 'WHERE', 'WHEN')) inSet = false;
    if (inSet && (isWord(tok, 'SET') || isOp(tok, ','))) {
      const a = t[i + 1];
      if (
        (a?.kind === 'word' || a?.kind === 'qid') &&
        isOp(t[i + 2], '.') &&
        (t[i + 3]?.kind === 'word' || t[i + 3]?.kind === 'qid') &&
        isOp(t[i + 4], '=')
      ) {
        drop.add(i + 1).add(i + 2);
      }
    }
  }
  const kept = t.filter((_, i) => !drop.has(i));
  const xx = drop.size ? new ExprTranslator(kept, opts) : x;
  const sql = xx.all();
  if (w0 === 'MERGE') {
    const counters: MergeCounter[] = [];
    const has = (re: (i: number) => boolean) => kept.some((_, i) => re(i));
    if (has((i) => isWord(kept[i], 'NOT') && isWord(kept[i + 1], 'MATCHED'))) counters.push('inserted');
    if (has((i) => isWord(kept[i], 'THEN') && isWord(kept[i + 1], 'UPDATE'))) counters.push('updated');
    if (has((i) => isWord(kept[i], 'THEN') && isWord(kept[i + 1], 'DELETE'))) counters.push('deleted');
    return {
      kind: 'exec',
      type: 'merge',
      statementTypeId: STATEMENT_TYPE.merge,
      lock: ref,
      mergeCounters: counters,
      sql: `${sql} RETURNING merge_action`,
      timestampBinds: [...xx.timestampBinds],
    };
  }
  return {
    kind: 'exec',
    type: w0 === 'UPDATE' ? 'update' : 'delete',
    statementTypeId: w0 === 'UPDATE' ? STATEMENT_TYPE.update : STATEMENT_TYPE.delete,
    lock: ref,
    sql,
    timestampBinds: [...xx.timestampBinds],
  };
}

/** ALTER TABLE: column types in ADD COLUMN / ALTER COLUMN ... [SET DATA] TYPE are mapped. */
function planAlterTable(t: Token[], opts: TranslateOptions): Plan {
  const out: Token[] = [];
  const types = new Map<number, string>();
  for (let i = 0; i < t.length; i++) {
    out.push(t[i]!);
    let typeAt = -1;
    if (isWord(t[i], 'ADD') || (isOp(t[i], ',') && out.some((x) => isWord(x, 'ADD')))) {
      let k = i + 1;
      if (isWord(t[k], 'COLUMN')) k++;
      if (isWord(t[k], 'IF') && isWord(t[k + 1], 'NOT') && isWord(t[k + 2], 'EXISTS')) k += 3;
      if (
        (t[k]?.kind === 'word' || t[k]?.kind === 'qid') &&
        !isWord(t[k], 'CONSTRAINT', 'PRIMARY', 'UNIQUE', 'FOREIGN')
      )
        typeAt = k + 1;
      for (let z = i + 1; z < typeAt; z++) out.push(t[z]!);
      if (typeAt > 0) i = typeAt - 1;
    } else if (isWord(t[i], 'TYPE') && i > 0) {
      typeAt = i + 1;
    }
    if (typeAt > 0 && t[typeAt]) {
      const { sql, next } = mapType(t, typeAt);
      types.set(out.length, sql);
      out.push({ kind: 'word', text: sql, value: `\u0000TYPE${out.length}`, pos: t[typeAt]!.pos });
      i = next - 1;
    }
  }
  const sql = new ExprTranslator(out, opts)
    .all()
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL marks the type placeholders because it cannot occur in SQL text.
    .replace(/\u0000TYPE(\d+)/g, (_m, n: string) => types.get(Number(n)) ?? '');
  return {
    kind: 'exec',
    type: 'ddl',
    statementTypeId: STATEMENT_TYPE.ddl,
    sql,
    status: 'Statement executed successfully.',
  };
}

function planCreate(t: Token[], x: ExprTranslator): Plan {
  let i = 1;
  let orReplace = false;
  if (isWord(t[i], 'OR') && isWord(t[i + 1], 'REPLACE')) {
    orReplace = true;
    i += 2;
  }
  let temp = false;
  while (
    isWord(t[i], 'TRANSIENT', 'TEMPORARY', 'TEMP', 'VOLATILE', 'LOCAL', 'GLOBAL', 'SECURE', 'RECURSIVE', 'MATERIALIZED')
  ) {
    if (isWord(t[i], 'TEMPORARY', 'TEMP', 'VOLATILE')) temp = true;
    i++;
  }
  const what = t[i]?.kind === 'word' ? t[i]!.value : '';
  if (what === 'TABLE') return planCreateTable(t, i + 1, orReplace, temp, x);
  if (what === 'DATABASE') {
    i++;
    const ifNotExists = isWord(t[i], 'IF') && isWord(t[i + 1], 'NOT');
    if (ifNotExists) i += 3;
    return { kind: 'createDatabase', name: readName(t, i).parts[0]!, orReplace, ifNotExists };
  }
  if (what === 'SCHEMA') {
    i++;
    const ifNotExists = isWord(t[i], 'IF') && isWord(t[i + 1], 'NOT');
    if (ifNotExists) i += 3;
    const { parts, next } = readName(t, i);
    const name = parts.map(quoteIdent).join('.');
    void next;
    const sql = orReplace
      ? `DROP SCHEMA IF EXISTS ${name} CASCADE; CREATE SCHEMA ${name}`
      : `CREATE SCHEMA ${ifNotExists ? 'IF NOT EXISTS ' : ''}${name}`;
    return {
      kind: 'exec',
      type: 'ddl',
      statementTypeId: STATEMENT_TYPE.ddl,
      sql,
      status: `Schema ${parts[parts.length - 1]} successfully created.`,
    };
  }
  if (what === 'VIEW') {
    const rest = x.range([i, t.length]);
    return {
      kind: 'exec',
      type: 'ddl',
      statementTypeId: STATEMENT_TYPE.ddl,
      sql: `CREATE ${orReplace ? 'OR REPLACE ' : ''}${temp ? 'TEMP ' : ''}${rest}`,
      status: 'View successfully created.',
    };
  }
  if (
    what === 'FUNCTION' &&
    t.some((k) => isWord(k, 'PYTHON') || isWord(k, 'JAVA') || isWord(k, 'JAVASCRIPT') || isWord(k, 'SCALA'))
  ) {
    throw unsupported('CREATE FUNCTION with a non-SQL language (Python/Java/JavaScript/Scala UDFs and UDTFs)');
  }
  if (what === 'FILE' || what === 'STORAGE' || what === 'NOTIFICATION')
    throw unsupported(`CREATE ${what} ${t[i + 1]?.value ?? ''}`.trim());
  if (REFUSED_CREATE.has(what)) throw unsupported(`CREATE ${what}`);
  throw unsupported(`CREATE ${what}`);
}

const TABLE_OPTIONS = new Set([
  'COMMENT',
  'DATA_RETENTION_TIME_IN_DAYS',
  'MAX_DATA_EXTENSION_TIME_IN_DAYS',
  'CHANGE_TRACKING',
  'ENABLE_SCHEMA_EVOLUTION',
  'DEFAULT_DDL_COLLATION',
]);

function planCreateTable(t: Token[], i: number, orReplace: boolean, temp: boolean, x: ExprTranslator): Plan {
  const ifNotExists = isWord(t[i], 'IF') && isWord(t[i + 1], 'NOT') && isWord(t[i + 2], 'EXISTS');
  if (ifNotExists) i += 3;
  const { parts, next } = readName(t, i);
  const name = temp ? quoteIdent(parts[parts.length - 1]!) : parts.map(quoteIdent).join('.');
  const head = `CREATE ${orReplace ? 'OR REPLACE ' : ''}${temp ? 'TEMP ' : ''}TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${name}`;
  const status = `Table ${parts[parts.length - 1]} successfully created.`;
  let k = next;
  let body = '';
  if (isOp(t[k], '(')) {
    const close = matchParen(t, k);
    const defs: string[] = [];
    for (const [a, b] of splitTopLevel(t, k + 1, close)) {
      if (isWord(t[a], 'CONSTRAINT', 'PRIMARY', 'UNIQUE', 'FOREIGN')) continue; // not enforced by Snowflake
      defs.push(columnDef(t, a, b, x));
    }
    body = `(${defs.join(', ')})`;
    k = close + 1;
  }
  // Snowflake table options that have no meaning here.
  let asSelect = '';
  while (k < t.length) {
    const tok = t[k]!;
    if (isWord(tok, 'CLUSTER') && isWord(t[k + 1], 'BY') && isOp(t[k + 2], '(')) {
      k = matchParen(t, k + 2) + 1;
    } else if (tok.kind === 'word' && TABLE_OPTIONS.has(tok.value)) {
      k += isOp(t[k + 1], '=') ? 3 : 2;
    } else if (isWord(tok, 'COPY') && isWord(t[k + 1], 'GRANTS')) {
      k += 2;
    } else if (isWord(tok, 'WITH') && isWord(t[k + 1], 'TAG')) {
      k = matchParen(t, k + 2) + 1;
    } else if (isWord(tok, 'STAGE_FILE_FORMAT', 'STAGE_COPY_OPTIONS')) {
      throw unsupported(tok.value);
    } else if (isWord(tok, 'AS')) {
      asSelect = `AS ${x.range([k + 1, t.length])}`;
      k = t.length;
    } else if (isWord(tok, 'LIKE', 'CLONE')) {
      const src = readName(t, k + 1);
      asSelect = `AS SELECT * FROM ${src.parts.map(quoteIdent).join('.')}${tok.value === 'LIKE' ? ' LIMIT 0' : ''}`;
      k = src.next;
    } else {
      throw sfError('syntax', `SQL compilation error:\nsyntax error: unexpected '${tok.text}' in CREATE TABLE`);
    }
  }
  return {
    kind: 'exec',
    type: 'ddl',
    statementTypeId: STATEMENT_TYPE.ddl,
    sql: `${head} ${body} ${asSelect}`.trim(),
    status,
  };
}

function columnDef(t: Token[], a: number, b: number, x: ExprTranslator): string {
  const nameTok = t[a]!;
  if (nameTok.kind !== 'word' && nameTok.kind !== 'qid')
    throw sfError('syntax', `SQL compilation error:\ncolumn name expected near '${nameTok.text}'`);
  const name = quoteIdent(nameTok.value);
  if (a + 1 >= b) throw sfError('syntax', `SQL compilation error:\ncolumn ${nameTok.value} has no type`);
  const { sql: type, next } = mapType(t, a + 1);
  const out: string[] = [name, type];
  let k = next;
  while (k < b) {
    const tok = t[k]!;
    if (isWord(tok, 'NOT') && isWord(t[k + 1], 'NULL')) {
      out.push('NOT NULL');
      k += 2;
    } else if (isWord(tok, 'NULL')) {
      k++;
    } else if (isWord(tok, 'PRIMARY', 'FOREIGN') && isWord(t[k + 1], 'KEY')) {
      k += 2; // not enforced by Snowflake
    } else if (isWord(tok, 'UNIQUE')) {
      k++;
    } else if (isWord(tok, 'REFERENCES')) {
      k = readName(t, k + 1).next;
      if (isOp(t[k], '(')) k = matchParen(t, k) + 1;
    } else if (isWord(tok, 'CONSTRAINT')) {
      k += 2;
    } else if (isWord(tok, 'COMMENT', 'COLLATE')) {
      k += 2;
    } else if (isWord(tok, 'DEFAULT')) {
      // The default expression runs to the next column constraint keyword.
      let e = k + 1;
      let depth = 0;
      for (; e < b; e++) {
        const z = t[e]!;
        if (isOp(z, '(')) depth++;
        else if (isOp(z, ')')) depth--;
        else if (
          depth === 0 &&
          isWord(z, 'NOT', 'NULL', 'PRIMARY', 'UNIQUE', 'COMMENT', 'COLLATE', 'CONSTRAINT', 'REFERENCES')
        )
          break;
      }
      out.push(`DEFAULT ${x.range([k + 1, e])}`);
      k = e;
    } else if (isWord(tok, 'AUTOINCREMENT', 'IDENTITY')) {
      throw unsupported('AUTOINCREMENT/IDENTITY columns');
    } else if (isWord(tok, 'ENFORCED', 'NOT', 'VALIDATE', 'NOVALIDATE', 'RELY', 'NORELY', 'ENABLE', 'DISABLE')) {
      k++;
    } else {
      throw sfError(
        'syntax',
        `SQL compilation error:\nsyntax error: unexpected '${tok.text}' in column ${nameTok.value}`,
      );
    }
  }
  return out.join(' ');
}

function planDrop(t: Token[], x: ExprTranslator): Plan {
  const what = t[1]?.kind === 'word' ? t[1].value : '';
  let i = 2;
  const ifExists = isWord(t[i], 'IF') && isWord(t[i + 1], 'EXISTS');
  if (ifExists) i += 2;
  if (what === 'DATABASE') return { kind: 'dropDatabase', name: readName(t, i).parts[0]!, ifExists };
  if (what === 'TABLE' || what === 'VIEW' || what === 'SCHEMA') {
    const { parts, next } = readName(t, i);
    const cascade = what === 'SCHEMA' ? ' CASCADE' : '';
    void next;
    return {
      kind: 'exec',
      type: 'ddl',
      statementTypeId: STATEMENT_TYPE.ddl,
      sql: `DROP ${what} ${ifExists ? 'IF EXISTS ' : ''}${parts.map(quoteIdent).join('.')}${cascade}`,
      status: `${parts[parts.length - 1]} successfully dropped.`,
    };
  }
  void x;
  throw unsupported(`DROP ${what}`);
}
