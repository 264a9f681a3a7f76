import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The workspace packages' own suites run here too (and alone with `npm test -w <package>`).
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The machine has 2 cores; integration suites start servers, so keep parallelism modest.
    pool: 'forks',
    // AWS SDK releases warn on Node 20 about their 2027 Node 22 requirement; the CLI silences it too.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
