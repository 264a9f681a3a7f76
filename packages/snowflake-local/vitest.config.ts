import { defineConfig } from 'vitest/config';

// `npm test -w snowflake-local` runs this; the root `npm test` runs the same files through the root config.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // AWS SDK releases warn on Node 20 about their 2027 Node 22 requirement (the snowpipe engine loads the SDK).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
