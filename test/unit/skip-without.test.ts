import { afterEach, describe, expect, it, vi } from 'vitest';
import { skipWithout } from '../helpers/corpus.ts';

describe('skipWithout (the corpus and python3 suites)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('runs a suite whose prerequisite is there', () => {
    vi.stubEnv('CI', 'true');
    expect(skipWithout(true, 'the log corpus')).toBe(false);
  });

  it('skips locally, but fails under CI, when the prerequisite is missing', () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.stubEnv('CI', '');
    expect(skipWithout(false, 'python3')).toBe(true);
    vi.stubEnv('CI', 'true');
    expect(() => skipWithout(false, 'python3')).toThrow(
      /^python3 is not available and CI is set: provide it in the CI image/,
    );
  });
});
