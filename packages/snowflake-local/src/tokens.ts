/**
 * A small Snowflake SQL tokenizer. It exists so that translation never touches the inside of a
 * string literal or a quoted identifier, and so that statement splitting respects both.
 */
export type TokenKind = 'word' | 'qid' | 'str' | 'num' | 'bind' | 'op';

export interface Token {
  kind: TokenKind;
  /** Source text of the token. */
  text: string;
  /** For 'str': the decoded string value. For 'qid': the identifier. For 'bind': '' (?) or the number (:1). */
  value: string;
  /** Offset in the source. */
  pos: number;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const OPS = ['::', '||', '<=', '>=', '<>', '!=', '=>', '->>', '->', '**'];

/** Snowflake single-quoted strings understand backslash escapes; DuckDB's do not. */
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0', Z: '\x1a' };

export class SqlSyntaxError extends Error {}

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if ((c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '/')) {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    const start = i;
    if (c === "'") {
      const { value, end } = scanString(sql, start);
      out.push({ kind: 'str', text: sql.slice(start, end), value, pos: start });
      i = end;
      continue;
    }
    if (c === '$' && sql[i + 1] === '$') {
      const end = sql.indexOf('$$', i + 2);
      if (end < 0) throw new SqlSyntaxError(`unterminated $$ string at position ${start}`);
      out.push({ kind: 'str', text: sql.slice(start, end + 2), value: sql.slice(i + 2, end), pos: start });
      i = end + 2;
      continue;
    }
    if (c === '"') {
      const { value, end } = scanQuotedIdent(sql, start);
      out.push({ kind: 'qid', text: sql.slice(start, end), value, pos: start });
      i = end;
      continue;
    }
    if (c === '?') {
      out.push({ kind: 'bind', text: '?', value: '', pos: start });
      i++;
      continue;
    }
    if (c === ':' && /[0-9]/.test(sql[i + 1] ?? '')) {
      i++;
      while (i < n && /[0-9]/.test(sql[i]!)) i++;
      out.push({ kind: 'bind', text: sql.slice(start, i), value: sql.slice(start + 1, i), pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      i = scanNumber(sql, start);
      out.push({ kind: 'num', text: sql.slice(start, i), value: sql.slice(start, i), pos: start });
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < n && WORD_CHAR.test(sql[i]!)) i++;
      const text = sql.slice(start, i);
      out.push({ kind: 'word', text, value: text.toUpperCase(), pos: start });
      continue;
    }
    const op = OPS.find((o) => sql.startsWith(o, i));
    const text = op ?? c;
    out.push({ kind: 'op', text, value: text, pos: start });
    i += text.length;
  }
  return out;
}

/** The single-quoted string at `start`: its value ('' doubled, backslash escapes resolved) and the index after it. */
function scanString(sql: string, start: number): { value: string; end: number } {
  const n = sql.length;
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= n) throw new SqlSyntaxError(`unterminated string literal at position ${start}`);
    const d = sql[i]!;
    if (d === "'") {
      if (sql[i + 1] !== "'") return { value, end: i + 1 };
      value += "'";
      i += 2;
    } else if (d === '\\' && i + 1 < n) {
      const e = sql[i + 1]!;
      if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(sql.slice(i + 2, i + 4))) {
        value += String.fromCharCode(parseInt(sql.slice(i + 2, i + 4), 16));
        i += 4;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(sql.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(sql.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        value += ESCAPES[e] ?? e;
        i += 2;
      }
    } else {
      value += d;
      i++;
    }
  }
}

/** The double-quoted identifier at `start`: its name ("" doubled) and the index after it. */
function scanQuotedIdent(sql: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= sql.length) throw new SqlSyntaxError(`unterminated quoted identifier at position ${start}`);
    const d = sql[i]!;
    if (d === '"') {
      if (sql[i + 1] !== '"') return { value, end: i + 1 };
      value += '"';
      i += 2;
    } else {
      value += d;
      i++;
    }
  }
}

/** The index after the number at `start` (digits and dots, then an optional exponent). */
function scanNumber(sql: string, start: number): number {
  const n = sql.length;
  let i = start;
  while (i < n && /[0-9.]/.test(sql[i]!)) i++;
  if ((sql[i] === 'e' || sql[i] === 'E') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
    i += 2;
    while (i < n && /[0-9]/.test(sql[i]!)) i++;
  }
  return i;
}

/** Splits a token list into statements at top-level semicolons; empty statements are dropped. */
export function splitStatements(tokens: Token[], sql: string): Array<{ tokens: Token[]; text: string }> {
  const out: Array<{ tokens: Token[]; text: string }> = [];
  let cur: Token[] = [];
  let startPos = 0;
  const flush = (endPos: number) => {
    if (cur.length) out.push({ tokens: cur, text: sql.slice(startPos, endPos).trim() });
    cur = [];
  };
  for (const t of tokens) {
    if (t.kind === 'op' && t.text === ';') {
      flush(t.pos);
      startPos = t.pos + 1;
    } else {
      if (!cur.length) startPos = t.pos;
      cur.push(t);
    }
  }
  flush(sql.length);
  return out;
}

export const isWord = (t: Token | undefined, ...words: string[]): boolean =>
  !!t && t.kind === 'word' && (words.length === 0 || words.includes(t.value));

export const isOp = (t: Token | undefined, op: string): boolean => !!t && t.kind === 'op' && t.text === op;

/** Index of the token closing the parenthesis opened at `open`. */
export function matchParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'op') continue;
    if (t.text === '(') depth++;
    else if (t.text === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new SqlSyntaxError('unbalanced parentheses');
}

/** Splits tokens[from, to) at top-level commas. */
export function splitTopLevel(tokens: Token[], from: number, to: number, sep = ','): Array<[number, number]> {
  const parts: Array<[number, number]> = [];
  let depth = 0;
  let s = from;
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'op') continue;
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') depth--;
    else if (depth === 0 && t.text === sep) {
      parts.push([s, i]);
      s = i + 1;
    }
  }
  if (to > s || parts.length) parts.push([s, to]);
  return parts;
}

/** A DuckDB string literal for a value. */
export const sqlString = (v: string): string => `'${v.replaceAll("'", "''")}'`;
export const quoteIdent = (v: string): string => `"${v.replaceAll('"', '""')}"`;
