// `npm run test:contract`: the contract suite alone (test/contract/), against a real Snowflake
// account when SNOWFLAKE_ACCOUNT is set, snowflake-local otherwise (docs/contract-tests.md).
// `npm test` runs the same suite through vitest.config.ts, always against snowflake-local.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/contract/**/*.test.ts'],
    // The CLI build (test/global-setup.ts) is for tests that run the command; none here.
    globalSetup: [],
    env: { ...base.test?.env, S3AL_CONTRACT_TARGET: process.env.S3AL_CONTRACT_TARGET ?? 'auto' },
    // A real account adds network round-trips and warehouse resumes to every statement.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
