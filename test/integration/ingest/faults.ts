import type { Stack } from './fixtures.ts';

/** Makes the next `n` COMMIT statements fail, through snowflake-local's fault injection. */
export function injectCommitFailures(stack: Stack, n: number): { clear(): void } {
  stack.sf.faults.failStatement(/^\s*COMMIT\b/i, { times: n });
  return { clear: () => stack.sf.faults.clear() };
}
