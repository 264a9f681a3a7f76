/**
 * The Snowpipe objects snowflake-local keeps (file formats, external stages, pipes) and the parser
 * of their DDL: CREATE [OR REPLACE] FILE FORMAT / STAGE / PIPE [IF NOT EXISTS], ALTER PIPE,
 * DROP, SHOW. Only what auto-ingest from S3 needs; anything else is refused with 000002.
 */
import { sfError, unsupported } from '../errors.ts';
import { isOp, isWord, matchParen, type Token } from '../tokens.ts';
import { readName, resolveTable, type SessionNames, type TableRef } from '../translate.ts';
import { METADATA_COLUMNS } from './load.ts';

/** An option value: a literal (string, word or number), a list `( … )`, or nested options `( K = V … )`. */
export type OptionValue = string | OptionValue[] | { [k: string]: OptionValue };
export type Options = Record<string, OptionValue>;

export interface ObjectRef {
  database: string;
  schema: string;
  name: string;
}

export interface FileFormatDef extends ObjectRef {
  kind: 'fileFormat';
  options: Options;
  createdOn: string;
}

export interface StageDef extends ObjectRef {
  kind: 'stage';
  /** `s3://bucket/prefix/` */
  url: string;
  storageIntegration: string | null;
  hasCredentials: boolean;
  fileFormat: OptionValue | null;
  comment: string | null;
  createdOn: string;
}

export interface PipeDef extends ObjectRef {
  kind: 'pipe';
  /** Stable per created pipe: a replaced pipe gets a new id, so its load history starts empty. */
  id: string;
  autoIngest: boolean;
  comment: string | null;
  /** The COPY statement as written. */
  definition: string;
  target: TableRef;
  columns: string[] | null;
  /** The SELECT list of a transforming COPY (source text of each item), or null for `FROM @stage`. */
  items: string[] | null;
  /** Table alias of the stage in the SELECT (`FROM @s t` → `T`). */
  alias: string | null;
  stage: ObjectRef;
  /** Path under the stage URL, '' or ending in '/': `@s/rows/` → `rows/`. */
  path: string;
  fileFormat: OptionValue | null;
  onError: string;
  paused: boolean;
  createdOn: string;
}

export type SnowpipeObject = FileFormatDef | StageDef | PipeDef;
export type ObjectKind = SnowpipeObject['kind'];

export type SnowpipeStatement =
  | { op: 'create'; object: SnowpipeObject; orReplace: boolean; ifNotExists: boolean }
  | { op: 'drop'; kind: ObjectKind; ref: ObjectRef; ifExists: boolean }
  | { op: 'alterPipe'; ref: ObjectRef; paused?: boolean; refreshPrefix?: string }
  | { op: 'show'; kind: ObjectKind; like: string | null; database: string | null; schema: string | null };

const KIND_WORDS: Record<string, ObjectKind> = { PIPE: 'pipe', PIPES: 'pipe', STAGE: 'stage', STAGES: 'stage' };

/** Which object a statement's words name, or null when it is not a Snowpipe statement. */
export function snowpipeKind(t: Token[]): ObjectKind | null {
  let i = 1;
  if (isWord(t[0], 'CREATE') && isWord(t[1], 'OR') && isWord(t[2], 'REPLACE')) i = 3;
  if (isWord(t[0], 'SHOW') && isWord(t[1], 'TERSE')) i = 2;
  if (!isWord(t[0], 'CREATE', 'DROP', 'ALTER', 'SHOW', 'DESC', 'DESCRIBE')) return null;
  if (isWord(t[i], 'FILE') && isWord(t[i + 1], 'FORMAT', 'FORMATS')) return 'fileFormat';
  const k = t[i]?.kind === 'word' ? KIND_WORDS[t[i]!.value] : undefined;
  if (!k) return null;
  // External stages only; ALTER STAGE is left to the general refusal.
  if (isWord(t[0], 'ALTER') && k !== 'pipe') return null;
  return k;
}

const syntax = (msg: string) => sfError('syntax', `SQL compilation error:\n${msg}`);

function ref(parts: string[], names: SessionNames): ObjectRef {
  const r = resolveTable(parts, names);
  return { database: r.database, schema: r.schema, name: r.table };
}

/** Reads `K = V` pairs from t[i] until `end` or a word in `stop`; returns the options and where it stopped. */
export function readOptions(
  t: Token[],
  i: number,
  end: number,
  stop: string[] = [],
): { options: Options; next: number } {
  const options: Options = {};
  while (i < end && !(t[i]?.kind === 'word' && stop.includes(t[i]!.value))) {
    if (isOp(t[i], ',')) {
      i++;
      continue;
    }
    const key = t[i];
    if (key?.kind !== 'word' || !isOp(t[i + 1], '='))
      throw syntax(`syntax error: option NAME = value expected near '${key?.text ?? 'end of statement'}'`);
    const { value, next } = readValue(t, i + 2);
    options[key.value] = value;
    i = next;
  }
  return { options, next: i };
}

function readValue(t: Token[], i: number): { value: OptionValue; next: number } {
  const tok = t[i];
  if (!tok) throw syntax('syntax error: option value expected');
  if (isOp(tok, '(')) {
    const close = matchParen(t, i);
    if (t[i + 1]?.kind === 'word' && isOp(t[i + 2], '='))
      return { value: readOptions(t, i + 1, close).options, next: close + 1 };
    const list: OptionValue[] = [];
    for (let k = i + 1; k < close; ) {
      if (isOp(t[k], ',')) {
        k++;
        continue;
      }
      const v = readValue(t, k);
      list.push(v.value);
      k = v.next;
    }
    return { value: list, next: close + 1 };
  }
  if (tok.kind === 'str' || tok.kind === 'qid') return { value: tok.value, next: i + 1 };
  if (isOp(tok, '-') && t[i + 1]?.kind === 'num') return { value: `-${t[i + 1]!.value}`, next: i + 2 };
  if (tok.kind === 'word' || tok.kind === 'num') {
    // A dotted name (FORMAT_NAME = db.schema.fmt) stays one value.
    let v = tok.value;
    let k = i + 1;
    while (isOp(t[k], '.') && (t[k + 1]?.kind === 'word' || t[k + 1]?.kind === 'qid')) {
      v += `.${t[k + 1]!.value}`;
      k += 2;
    }
    return { value: v, next: k };
  }
  throw syntax(`syntax error: unexpected '${tok.text}' as option value`);
}

const str = (v: OptionValue | undefined): string | null => (typeof v === 'string' ? v : null);

/** The stage path of `@name/path/`: tokens that touch each other, from the `@`. */
function readStageRef(t: Token[], at: number, names: SessionNames): { stage: ObjectRef; path: string; next: number } {
  if (!isOp(t[at], '@'))
    throw syntax(`syntax error: stage reference @name expected near '${t[at]?.text ?? 'end of statement'}'`);
  const { parts, next } = readName(t, at + 1);
  let k = next;
  let path = '';
  while (t[k] && t[k]!.pos === t[k - 1]!.pos + t[k - 1]!.text.length && !isOp(t[k], ')') && !isOp(t[k], ',')) {
    path += t[k]!.text;
    k++;
  }
  path = path.replace(/^\/+/, '');
  if (path && !path.endsWith('/')) {
    throw unsupported(
      `A pipe on a single file or a path without a trailing slash (@…/${path})`,
      'End the path with "/".',
    );
  }
  return { stage: ref(parts, names), path, next: k };
}

function parseCopy(t: Token[], i: number, names: SessionNames, source: string) {
  if (!isWord(t[i], 'COPY') || !isWord(t[i + 1], 'INTO'))
    throw syntax('syntax error: a pipe is AS COPY INTO <table> ...');
  const { parts, next } = readName(t, i + 2);
  const target = resolveTable(parts, names);
  let k = next;
  let columns: string[] | null = null;
  if (isOp(t[k], '(')) {
    const close = matchParen(t, k);
    columns = t
      .slice(k + 1, close)
      .filter((x) => x.kind === 'word' || x.kind === 'qid')
      .map((x) => x.value);
    k = close + 1;
  }
  if (!isWord(t[k], 'FROM')) throw syntax(`syntax error: COPY INTO ${target.table} expects FROM`);
  k++;
  let items: string[] | null = null;
  let alias: string | null = null;
  let stageRef;
  if (isOp(t[k], '(')) {
    const close = matchParen(t, k);
    if (!isWord(t[k + 1], 'SELECT')) throw syntax('syntax error: COPY INTO ... FROM ( SELECT ... FROM @stage )');
    let from = -1;
    let depth = 0;
    for (let z = k + 2; z < close; z++) {
      if (isOp(t[z], '(')) depth++;
      else if (isOp(t[z], ')')) depth--;
      else if (depth === 0 && isWord(t[z], 'FROM')) {
        from = z;
        break;
      }
    }
    if (from < 0) throw syntax('syntax error: the SELECT of a COPY needs FROM @stage');
    items = splitItems(t, k + 2, from).map(([a, b]) => source.slice(t[a]!.pos, t[b - 1]!.pos + t[b - 1]!.text.length));
    const unknown = t
      .slice(k + 2, from)
      .find(
        (x) => x.kind === 'word' && x.value.startsWith('METADATA$') && !METADATA_COLUMNS.includes(x.value as never),
      );
    if (unknown) throw unsupported(`The metadata column ${unknown.value}`);
    stageRef = readStageRef(t, from + 1, names);
    let z = stageRef.next;
    if (isWord(t[z], 'AS')) z++;
    if (z < close && (t[z]?.kind === 'word' || t[z]?.kind === 'qid')) alias = t[z++]!.value;
    if (z !== close)
      throw unsupported('A COPY transformation with more than SELECT ... FROM @stage [alias] (WHERE, JOIN, ...)');
    k = close + 1;
  } else {
    stageRef = readStageRef(t, k, names);
    k = stageRef.next;
  }
  const { options } = readOptions(t, k, t.length);
  for (const key of Object.keys(options)) {
    if (!['FILE_FORMAT', 'ON_ERROR', 'PATTERN'].includes(key)) throw unsupported(`The COPY option ${key} in a pipe`);
  }
  if (options.PATTERN !== undefined)
    throw unsupported('PATTERN in a pipe', 'Give each pipe its own path of the stage instead.');
  const onError = (str(options.ON_ERROR) ?? 'SKIP_FILE').toUpperCase();
  if (onError !== 'SKIP_FILE' && onError !== 'ABORT_STATEMENT') {
    throw unsupported(
      `ON_ERROR = ${onError} in a pipe`,
      'snowflake-local emulates SKIP_FILE (whole file or nothing); ABORT_STATEMENT behaves the same in a pipe.',
    );
  }
  return {
    target,
    columns,
    items,
    alias,
    stage: stageRef.stage,
    path: stageRef.path,
    fileFormat: options.FILE_FORMAT ?? null,
    onError,
  };
}

function splitItems(t: Token[], from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let depth = 0;
  let s = from;
  for (let i = from; i < to; i++) {
    if (isOp(t[i], '(')) depth++;
    else if (isOp(t[i], ')')) depth--;
    else if (depth === 0 && isOp(t[i], ',')) {
      out.push([s, i]);
      s = i + 1;
    }
  }
  out.push([s, to]);
  return out;
}

function parseCreate(t: Token[], names: SessionNames, source: string, newId: () => string): SnowpipeStatement {
  let i = 1;
  const orReplace = isWord(t[i], 'OR') && isWord(t[i + 1], 'REPLACE');
  if (orReplace) i += 2;
  const kind = snowpipeKind(t)!;
  i += kind === 'fileFormat' ? 2 : 1;
  const ifNotExists = isWord(t[i], 'IF') && isWord(t[i + 1], 'NOT') && isWord(t[i + 2], 'EXISTS');
  if (ifNotExists) i += 3;
  const { parts, next } = readName(t, i);
  const base = { ...ref(parts, names), createdOn: new Date().toISOString() };
  if (kind === 'fileFormat') {
    const { options } = readOptions(t, next, t.length);
    const type = (str(options.TYPE) ?? 'CSV').toUpperCase();
    if (type !== 'CSV') throw unsupported(`FILE FORMAT TYPE = ${type}`, 'snowflake-local loads CSV only.');
    return { op: 'create', orReplace, ifNotExists, object: { kind, ...base, options } };
  }
  if (kind === 'stage') {
    const { options } = readOptions(t, next, t.length);
    const url = str(options.URL);
    if (!url || !/^s3:\/\/[^/]+\/?/.test(url))
      throw unsupported("A stage without URL = 's3://bucket/prefix/' (internal stages)");
    for (const key of Object.keys(options)) {
      if (
        ![
          'URL',
          'CREDENTIALS',
          'STORAGE_INTEGRATION',
          'FILE_FORMAT',
          'COMMENT',
          'ENCRYPTION',
          'DIRECTORY',
          'COPY_OPTIONS',
        ].includes(key)
      ) {
        throw unsupported(`The stage option ${key}`);
      }
    }
    return {
      op: 'create',
      orReplace,
      ifNotExists,
      object: {
        kind,
        ...base,
        url: url.endsWith('/') ? url : `${url}/`,
        storageIntegration: str(options.STORAGE_INTEGRATION),
        hasCredentials: options.CREDENTIALS !== undefined,
        fileFormat: options.FILE_FORMAT ?? null,
        comment: str(options.COMMENT),
      },
    };
  }
  const { options, next: asAt } = readOptions(t, next, t.length, ['AS']);
  if (!isWord(t[asAt], 'AS')) throw syntax('syntax error: CREATE PIPE ... AS COPY INTO ...');
  for (const key of Object.keys(options)) {
    if (!['AUTO_INGEST', 'COMMENT', 'AWS_SNS_TOPIC', 'ERROR_INTEGRATION', 'INTEGRATION'].includes(key))
      throw unsupported(`The pipe option ${key}`);
  }
  const copy = parseCopy(t, asAt + 1, names, source);
  return {
    op: 'create',
    orReplace,
    ifNotExists,
    object: {
      kind: 'pipe',
      ...base,
      id: newId(),
      autoIngest: /^TRUE$/i.test(str(options.AUTO_INGEST) ?? ''),
      comment: str(options.COMMENT),
      definition: source.slice(t[asAt + 1]!.pos).trim(),
      ...copy,
      paused: false,
    },
  };
}

function parseShow(t: Token[], kind: ObjectKind, names: SessionNames): SnowpipeStatement {
  let i = isWord(t[1], 'TERSE') ? 2 : 1;
  i += kind === 'fileFormat' ? 2 : 1;
  let like: string | null = null;
  if (isWord(t[i], 'LIKE') && t[i + 1]?.kind === 'str') {
    like = t[i + 1]!.value;
    i += 2;
  }
  let database = names.database;
  let schema: string | null = names.schema;
  if (isWord(t[i], 'IN')) {
    i++;
    if (isWord(t[i], 'ACCOUNT')) return { op: 'show', kind, like, database: null, schema: null };
    const scope = isWord(t[i], 'DATABASE', 'SCHEMA') ? t[i++]!.value : 'SCHEMA';
    const parts = t[i] ? readName(t, i).parts : [];
    if (scope === 'DATABASE') {
      database = parts[0] ?? names.database;
      schema = null;
    } else if (parts.length) {
      database = parts.length > 1 ? parts[0]! : names.database;
      schema = parts[parts.length - 1]!;
    }
  }
  return { op: 'show', kind, like, database, schema };
}

export function parseSnowpipeStatement(
  t: Token[],
  names: SessionNames,
  source: string,
  newId: () => string,
): SnowpipeStatement {
  const kind = snowpipeKind(t);
  if (!kind) throw syntax('not a Snowpipe statement');
  const w0 = t[0]!.value;
  if (w0 === 'CREATE') return parseCreate(t, names, source, newId);
  if (w0 === 'SHOW') return parseShow(t, kind, names);
  if (w0 === 'DESC' || w0 === 'DESCRIBE')
    throw unsupported(`DESCRIBE ${kind === 'fileFormat' ? 'FILE FORMAT' : kind.toUpperCase()}`, 'Use SHOW instead.');
  let i = kind === 'fileFormat' ? 3 : 2;
  const ifExists = isWord(t[i], 'IF') && isWord(t[i + 1], 'EXISTS');
  if (ifExists) i += 2;
  const { parts, next } = readName(t, i);
  const r = ref(parts, names);
  if (w0 === 'DROP') return { op: 'drop', kind, ref: r, ifExists };
  // ALTER PIPE name SET PIPE_EXECUTION_PAUSED = TRUE|FALSE | REFRESH [PREFIX = '...']
  if (isWord(t[next], 'REFRESH')) {
    const { options } = readOptions(t, next + 1, t.length);
    return { op: 'alterPipe', ref: r, refreshPrefix: str(options.PREFIX) ?? '' };
  }
  if (isWord(t[next], 'SET')) {
    const { options } = readOptions(t, next + 1, t.length);
    const paused = str(options.PIPE_EXECUTION_PAUSED);
    const others = Object.keys(options).filter((k) => k !== 'PIPE_EXECUTION_PAUSED' && k !== 'COMMENT');
    if (others.length) throw unsupported(`ALTER PIPE ... SET ${others.join(', ')}`);
    return { op: 'alterPipe', ref: r, ...(paused !== null ? { paused: /^TRUE$/i.test(paused) } : {}) };
  }
  throw unsupported(
    `ALTER PIPE ... ${t[next]?.text ?? ''}`.trim(),
    'snowflake-local supports SET PIPE_EXECUTION_PAUSED and REFRESH.',
  );
}
