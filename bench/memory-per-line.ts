/**
 * `npm run bench:memory`: what one buffered line costs in heap, as RowBuilder makes it, to check
 * the memory budget's charge (functions/ingest/memory-budget.ts: LINE_OVERHEAD_BYTES + BYTES_PER_CHAR
 * per character). Runs itself under --expose-gc; heapUsed after GC, 200,000 lines per case, the
 * lines held as slices of one decoded text as readLogLines yields them. Writes
 * bench/results/memory-per-line.json.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateLines } from '../local/sample/lines.ts';
import { parseLine } from '../shared/access-log/index.ts';
import { RowBuilder } from '../shared/snowflake/loader.ts';
import { lineCost } from '../functions/ingest/memory-budget.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
  });
  process.exit(0);
}

const N = 200_000;
function measure(name: string, text: string, mode: 'parsed' | 'raw') {
  const lines = text.split('\n');
  gc!();
  const before = process.memoryUsage().heapUsed;
  const b = new RowBuilder(
    { bucket: 'my-log-bucket', key: 'logs/2024-05-01-10-00-00-ABCDEF0123456789' },
    mode,
    '2024-05-01T10:00:00.000Z',
  );
  const kept: unknown[] = [];
  let chars = 0;
  for (let i = 0; i < lines.length; i++) {
    chars += lines[i]!.length;
    kept.push(b.add({ line: i + 1, raw: lines[i]!, result: parseLine(lines[i]!) }).bind);
  }
  gc!();
  // The lines' own text: counted too, as the budget charges it (they are slices of `text`).
  const perLine =
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a range from U+0000 tells Latin-1 text (1 byte a char in V8) from the rest.
    (process.memoryUsage().heapUsed - before + text.length * (/[^\u0000-\u00ff]/.test(text) ? 2 : 1)) / lines.length;
  const charged = lines.reduce((a, l) => a + lineCost(l), 0) / lines.length;
  void kept.length;
  return {
    name,
    mode,
    charsPerLine: +(chars / lines.length).toFixed(1),
    heapBytesPerLine: Math.round(perLine),
    chargedBytesPerLine: Math.round(charged),
    chargedOverActual: +(charged / perLine).toFixed(2),
  };
}

const typical: string[] = [];
for (const l of generateLines()) if (typical.push(l) >= N) break;
const text = typical.join('\n');
const results = [
  measure('typical log lines', text, 'parsed'),
  measure('typical log lines', text, 'raw'),
  measure('2-byte lines (rejects)', Array.from({ length: N }, (_, i) => `x${i % 10}`).join('\n'), 'parsed'),
  measure('non-Latin-1 user agents', typical.map((l) => l.replace('"GET', '"G\u{1F600}ET')).join('\n'), 'parsed'),
];
console.table(results);
writeFileSync(
  'bench/results/memory-per-line.json',
  `${JSON.stringify({ ranAt: new Date().toISOString(), node: process.version, lines: N, results }, null, 2)}\n`,
);
