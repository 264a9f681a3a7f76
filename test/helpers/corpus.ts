/**
 * The third-party log corpus beside the checkout (`../shared/corpus`). Tests read it in place:
 * its lines are never copied into this project.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const corpusDir = path.resolve(repoRoot, '../shared/corpus');
export const seedDir = path.resolve(repoRoot, '../shared/seed');

export const corpusAvailable = (): boolean => existsSync(corpusDir);

/**
 * Whether a suite that needs `what` (the corpus, python3) must be skipped. A clone without it skips
 * with a line saying so; with `CI` set the missing prerequisite is an error instead, so a CI run
 * that cannot check the corpus fails rather than passing with the suite silently skipped.
 */
export function skipWithout(available: boolean, what: string): boolean {
  if (available) return false;
  if (process.env.CI)
    throw new Error(
      `${what} is not available and CI is set: provide it in the CI image (or unset CI to skip these tests locally).`,
    );
  console.log(`skipped: ${what} not available`);
  return true;
}

/** Every `*.log` file of the corpus, sorted. */
export function corpusLogFiles(): string[] {
  return readdirSync(corpusDir)
    .filter((f) => f.endsWith('.log'))
    .sort();
}

/** The lines of one corpus file as they are in the file (1-based index = array index + 1). */
export function corpusLines(file: string): string[] {
  const text = readFileSync(path.join(corpusDir, file), 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export interface ExpectedReject {
  file: string;
  line: number;
  reason: string;
  /** What SOURCES.md says about the line. */
  why: string;
}

/**
 * The lines SOURCES.md marks as truncated, invalid or negative tests that the parser rejects,
 * with the reason it must give. Every other corpus line must parse.
 */
export const EXPECTED_REJECTS: ExpectedReject[] = [
  {
    file: 'otel-awslogsencoding-s3accesslog.log',
    line: 5,
    reason: 'too_few_fields',
    why: 'truncated after the HTTP status ("must be rejected/flagged")',
  },
  {
    file: 'thirdparty-issues-and-docs.log',
    line: 3,
    reason: 'bad_time',
    why: 'time edited to [2017-08-16] in the vendor doc; "keep only as a negative test"',
  },
];

/**
 * Lines SOURCES.md calls invalid or suspicious that we deliberately ACCEPT, and why. Asserted
 * field by field in the conformance suite so the decision stays visible.
 */
export const ACCEPTED_ODDITIES = [
  {
    file: 'kdgm-logstash-plugins-spec.log',
    line: 11,
    why:
      'Marked "deliberately invalid" by the logstash spec because its Referer ends with a doubled ' +
      'quote. S3 never escapes quotes, so this is exactly how S3 logs a Referer header ending in `"`; ' +
      'the same shape occurs in real lines (thirdparty line 2, dandi UA lines). Rejecting it would ' +
      'drop a real request; the row keeps the inner quote verbatim.',
  },
] as const;
