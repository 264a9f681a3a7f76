/**
 * Reads a query-request body without materializing array binds. A 50k-row x 30-column INSERT
 * arrives as ~20 MB of JSON; JSON.parse would build 1.5 million strings only for us to serialize
 * them again for DuckDB. Instead each array bind is kept as its raw JSON text, which DuckDB's
 * from_json reads directly; it is parsed in JS only when something needs the values.
 */
import type { Binding } from './warehouse.ts';

export class BodySyntaxError extends Error {}

/** Index just past the JSON value starting at `i` (after whitespace). */
function skipValue(s: string, i: number): number {
  i = skipWs(s, i);
  const c = s.charCodeAt(i);
  if (c === 0x22) return skipString(s, i);
  if (c === 0x5b || c === 0x7b) {
    // Arrays and objects: track depth, skipping strings (which may contain brackets).
    let depth = 0;
    for (let k = i; k < s.length; k++) {
      const d = s.charCodeAt(k);
      if (d === 0x22) k = skipString(s, k) - 1;
      else if (d === 0x5b || d === 0x7b) depth++;
      else if (d === 0x5d || d === 0x7d) {
        depth--;
        if (depth === 0) return k + 1;
      }
    }
    throw new BodySyntaxError('unterminated JSON array or object');
  }
  let k = i;
  while (k < s.length && !/[,}\]\s]/.test(s[k]!)) k++;
  if (k === i) throw new BodySyntaxError(`unexpected character at ${i}`);
  return k;
}

function skipString(s: string, i: number): number {
  // indexOf runs natively; a quote is the end unless an odd number of backslashes precedes it.
  let k = i + 1;
  for (;;) {
    const q = s.indexOf('"', k);
    if (q < 0) throw new BodySyntaxError('unterminated JSON string');
    let slashes = 0;
    for (let b = q - 1; s.charCodeAt(b) === 0x5c; b--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    k = q + 1;
  }
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\n' || s[i] === '\r' || s[i] === '\t')) i++;
  return i;
}

/**
 * Calls `each(key, valueStart)` for the members of the object starting at `i`; `each` returns the
 * end of the value it consumed. Returns the end of the object.
 */
function members(s: string, i: number, each: (key: string, from: number) => number): number {
  i = skipWs(s, i);
  if (s[i] !== '{') throw new BodySyntaxError('object expected');
  i = skipWs(s, i + 1);
  if (s[i] === '}') return i + 1;
  for (;;) {
    const keyEnd = skipString(s, i);
    const key = JSON.parse(s.slice(i, keyEnd)) as string;
    i = skipWs(s, keyEnd);
    if (s[i] !== ':') throw new BodySyntaxError('colon expected');
    const from = skipWs(s, i + 1);
    const to = each(key, from);
    i = skipWs(s, to);
    if (s[i] === ',') {
      i = skipWs(s, i + 1);
      continue;
    }
    if (s[i] === '}') return i + 1;
    throw new BodySyntaxError('comma or } expected');
  }
}

export function parseQueryBody(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const plain = (from: number, set: (v: unknown) => void) => {
    const to = skipValue(text, from);
    set(JSON.parse(text.slice(from, to)));
    return to;
  };
  members(text, 0, (key, from) => {
    if (key !== 'bindings' || text[from] !== '{') return plain(from, (v) => (out[key] = v));
    const bindings: Record<string, Binding> = {};
    out.bindings = bindings;
    return members(text, from, (pos, bFrom) => {
      const b: Binding = { type: 'TEXT', value: null };
      bindings[pos] = b;
      return members(text, bFrom, (k, vFrom) => {
        if (k === 'value' && text[vFrom] === '[') {
          const vTo = skipValue(text, vFrom);
          b.raw = text.slice(vFrom, vTo);
          return vTo;
        }
        if (k === 'value') return plain(vFrom, (v) => (b.value = v as string | null));
        if (k === 'type') return plain(vFrom, (v) => (b.type = String(v)));
        return skipValue(text, vFrom);
      });
    });
  });
  return out;
}
