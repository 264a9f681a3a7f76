/**
 * The soak's log objects: every shape the ingest must survive, from a seeded PRNG, each with the
 * number of lines it must end up with in the ledger (null where a corrupt gzip makes the count
 * depend on what zlib can still decode; those are checked by the ledger invariant alone).
 */
import { gzipSync } from 'node:zlib';
import { generateLines } from '../../sample/lines.ts';
import { Prng } from '../../sample/prng.ts';

export type SoakShape =
  | 'lf'
  | 'crlf'
  | 'cr'
  | 'bom'
  | 'gzip'
  | 'gzip-members'
  | 'truncated-gzip'
  | 'garbage-gzip'
  | 'empty';

export interface SoakObject {
  key: string;
  body: Buffer;
  shape: SoakShape;
  /** Non-blank lines (each must become a row or a reject); null = not known exactly (corrupt gzip). */
  lines: number | null;
  malformed: number;
}

const MALFORMED = [
  'garbage that is not a log line',
  '\u0000\u0001\u0002',
  'owner bucket [99/Foo/2024:00:00:00 +0000] 192.0.2.1 - REQ REST.GET.OBJECT k "GET / HTTP/1.1" 200',
  '"unterminated quote',
  'x',
];
const KEY_PARTS = [
  'plain',
  'with space',
  'ünïcødé',
  'plus+sign',
  'emoji-\u{1F600}',
  'percent%20',
  "quote's",
  'tilde~(paren)',
];

function textOf(prng: Prng, seed: number, n: number): { lines: string[]; malformed: number } {
  const lines: string[] = [];
  let malformed = 0;
  for (const line of generateLines({ seed, bucket: 'soak-source' })) {
    if (lines.length >= n) break;
    if (prng.chance(0.08)) {
      lines.push(prng.pick(MALFORMED));
      malformed++;
    } else lines.push(line);
  }
  return { lines, malformed };
}

export function soakObjects(count: number, seed = 12): SoakObject[] {
  const prng = new Prng(seed);
  const out: SoakObject[] = [];
  for (let i = 0; i < count; i++) {
    const shape = prng.weighted<SoakShape>([
      ['lf', 30],
      ['crlf', 12],
      ['cr', 6],
      ['bom', 8],
      ['gzip', 25],
      ['gzip-members', 6],
      ['truncated-gzip', 4],
      ['garbage-gzip', 4],
      ['empty', 2],
    ]);
    const n = shape === 'empty' ? 0 : prng.int(1, prng.chance(0.05) ? 3000 : 120);
    const { lines, malformed } = textOf(prng, seed * 100_000 + i, n);
    const key = `logs/soak/${prng.pick(KEY_PARTS)}/${String(i).padStart(5, '0')}-2024-05-01-10-00-00-${i.toString(16).toUpperCase()}`;
    const lf = lines.map((l) => `${l}\n`).join('');
    let body: Buffer;
    let known: number | null = lines.length;
    switch (shape) {
      case 'crlf':
        body = Buffer.from(lines.map((l) => `${l}\r\n`).join(''));
        break;
      case 'cr':
        body = Buffer.from(lines.map((l) => `${l}\r`).join(''));
        break;
      case 'bom':
        body = Buffer.from(`\uFEFF${lf}`);
        break;
      case 'gzip':
        body = gzipSync(Buffer.from(lf));
        break;
      case 'gzip-members': {
        const half = Math.floor(lines.length / 2);
        body = Buffer.concat([
          gzipSync(
            Buffer.from(
              lines
                .slice(0, half)
                .map((l) => `${l}\n`)
                .join(''),
            ),
          ),
          gzipSync(
            Buffer.from(
              lines
                .slice(half)
                .map((l) => `${l}\n`)
                .join(''),
            ),
          ),
        ]);
        break;
      }
      case 'truncated-gzip': {
        const gz = gzipSync(Buffer.from(lf));
        body = gz.subarray(0, Math.max(12, Math.floor(gz.length * 0.7)));
        known = null;
        break;
      }
      case 'garbage-gzip':
        body = Buffer.concat([gzipSync(Buffer.from(lf)), Buffer.from('trailing garbage')]);
        known = null;
        break;
      default:
        body = Buffer.from(lf);
    }
    out.push({ key, body, shape, lines: known, malformed });
  }
  return out;
}

/**
 * The audit's two kinds of missing object: lost (no ledger row and no message in the DLQ, or a
 * ledger line count other than the object's: silent loss) and dead-lettered (no ledger row, but a
 * DLQ message announces it: visible, and a redrive loads it).
 */
export function missingObjects(
  objects: Array<Pick<SoakObject, 'key' | 'lines'>>,
  ledgerLineCounts: Map<string, number>,
  inDlq: Set<string>,
): { lost: string[]; deadLettered: string[] } {
  const lost: string[] = [];
  const deadLettered: string[] = [];
  for (const o of objects) {
    const linecount = ledgerLineCounts.get(o.key);
    if (linecount === undefined) (inDlq.has(o.key) ? deadLettered : lost).push(o.key);
    else if (o.lines !== null && linecount !== o.lines) lost.push(o.key);
  }
  return { lost, deadLettered };
}
