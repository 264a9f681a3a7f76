// What build-stubs.mjs leaves out of the Lambda bundles: gone from the built artifacts (by their
// esbuild metafiles), each stub shaped like the module it replaces, and, if its path is ever taken
// through the real snowflake-sdk (or AWS SDK) code, failing with its one-sentence message. The
// time-zone table the bundles keep gives every zone the same offsets as the full one for 1970–2100.
// That the stubbed bundles still do their job is template.test.ts's end-to-end test of dist/ingest.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import vm from 'node:vm';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaStubs, STUBS, TZ_YEARS } from '../../build-stubs.mjs';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const requireFromRoot = createRequire(path.join(ROOT, 'package.json'));
const SNOWFLAKE_FUNCTIONS = ['ingest', 'backfill'];

let work = '';
let dist = '';
beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 's3al-bundle-stubs-'));
  dist = path.join(work, 'dist');
  await run(process.execPath, [path.join(ROOT, 'build.mjs')], {
    cwd: ROOT,
    env: { ...process.env, S3AL_DIST_DIR: dist },
  });
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Builds `contents` with the Lambda's stubs into `work`, runs it in plain Node from an empty directory, returns its stdout. */
async function probe(name: string, contents: string, args: string[] = []): Promise<string> {
  const outfile = path.join(work, `${name}.mjs`);
  await build({
    stdin: { contents, resolveDir: ROOT, loader: 'js', sourcefile: `${name}.mjs` },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'error',
    plugins: [lambdaStubs()],
    banner: {
      js: [
        "import { createRequire as __probeRequire } from 'node:module';",
        'const require = __probeRequire(import.meta.url);',
        `const __filename = ${JSON.stringify(outfile)};`,
        `const __dirname = ${JSON.stringify(work)};`,
      ].join('\n'),
    },
  });
  const cwd = mkdtempSync(path.join(work, 'cwd-'));
  const { stdout } = await run(process.execPath, [outfile, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    maxBuffer: 64 << 20,
  });
  return stdout;
}

const messageOf = (module: string) => STUBS.find((s) => s.module === module)!.message;

describe('the Lambda bundles leave out what build-stubs.mjs stubs', () => {
  it.each(['ingest', 'backfill', 'bucket-notification'])('%s: stubs in, their modules and packages out', (fn) => {
    const meta = JSON.parse(readFileSync(path.join(dist, fn, 'meta.json'), 'utf8'));
    const inputs = Object.keys(meta.inputs);
    const stubbed = inputs.filter((i) => i.startsWith('s3al-stub:')).map((i) => i.slice('s3al-stub:'.length));
    const withSdk = SNOWFLAKE_FUNCTIONS.includes(fn);
    // bucket-notification has the AWS SDK but not snowflake-sdk.
    const expected = STUBS.filter((s) => withSdk || s.requiredBy !== 'snowflake-sdk').map((s) => s.module);
    expect(stubbed.sort()).toEqual(expected.sort());
    expect(inputs.some((i) => i.includes('node_modules/snowflake-sdk/'))).toBe(withSdk);
    for (const s of STUBS) {
      expect(inputs, `${fn} still has ${s.module}`).not.toContain(`node_modules/${s.module}`);
      for (const dropped of s.drops) {
        expect(
          inputs.filter((i) => i.includes(`node_modules/${dropped}/`)),
          `${dropped} (left out with ${s.module})`,
        ).toEqual([]);
      }
    }
    expect(inputs.filter((i) => /node_modules\/moment-timezone\/data\//.test(i))).toEqual([]);
    expect(inputs.includes('s3al-tz:moment-timezone')).toBe(withSdk);
    // The artifact carries the stubs' messages (minified code keeps string literals).
    const code = readFileSync(path.join(dist, fn, 'index.mjs'), 'utf8');
    for (const module of expected) expect(code).toContain(messageOf(module));
  });

  it('the build fails, naming the stub, when a stubbed module is no longer required (a changed snowflake-sdk)', async () => {
    const gone = { ...STUBS[0]!, module: 'snowflake-sdk/dist/lib/file_transfer_agent/no_such_util.js' };
    const attempt = build({
      absWorkingDir: ROOT,
      entryPoints: ['functions/backfill/handler.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      plugins: [lambdaStubs([...STUBS, gone])],
    });
    await expect(attempt).rejects.toThrow(
      'build-stubs.mjs: snowflake-sdk/dist/lib/file_transfer_agent/no_such_util.js (from snowflake-sdk) is no longer required as it was',
    );
  });

  it('every stub exports what the module it replaces exports', () => {
    for (const s of STUBS) {
      const real = requireFromRoot(s.module);
      const sandbox = { module: { exports: {} as Record<string, unknown> }, exports: {} };
      sandbox.exports = sandbox.module.exports;
      vm.runInNewContext(s.source(s.message), sandbox);
      const stub = sandbox.module.exports;
      if (s.module === 'bowser') {
        // @aws-sdk/core reads only `parse` (or `default.parse`) from it.
        expect(typeof real.parse).toBe('function');
        expect(typeof stub.parse).toBe('function');
        continue;
      }
      expect(typeof stub, s.module).toBe(typeof real);
      expect(Object.keys(stub).sort(), s.module).toEqual(Object.keys(real).sort());
      for (const key of Object.keys(real)) {
        const value = real[key];
        if (typeof value === 'function') expect(typeof stub[key], `${s.module} ${key}`).toBe('function');
        else expect(stub[key], `${s.module} ${key}`).toEqual(value);
      }
    }
  });

  it('reached through the real snowflake-sdk and AWS SDK code, each stub fails with its message', async () => {
    const stdout = await probe(
      'stub-paths',
      `
      import snowflake from 'snowflake-sdk';
      import { RemoteStorageUtil } from 'snowflake-sdk/dist/lib/file_transfer_agent/remote_storage_util.js';
      import { createUserAgentStringParsingProvider } from '@aws-sdk/core/client';
      snowflake.configure({ logLevel: 'OFF' });
      const out = {};
      // connect() reports a login's failure to its callback, before any request is sent.
      const login = (options) => new Promise((resolve) => {
        try {
          snowflake.createConnection({ account: 'probe', username: 'probe', ...options })
            .connect((err) => resolve(err ? err.message : 'connected'));
        } catch (err) { resolve('createConnection threw: ' + err.message); }
      });
      const oauth = { oauthClientId: 'id', oauthClientSecret: 'secret' };
      out.OAUTH_AUTHORIZATION_CODE = await login({ authenticator: 'OAUTH_AUTHORIZATION_CODE', ...oauth });
      out.OAUTH_CLIENT_CREDENTIALS = await login({
        authenticator: 'OAUTH_CLIENT_CREDENTIALS', ...oauth, oauthTokenRequestUrl: 'https://probe.invalid/token',
      });
      out.EXTERNALBROWSER = await login({ authenticator: 'EXTERNALBROWSER' });
      out.WORKLOAD_IDENTITY_AZURE = await login({ authenticator: 'WORKLOAD_IDENTITY', workloadIdentityProvider: 'AZURE' });
      out.WORKLOAD_IDENTITY_GCP = await login({ authenticator: 'WORKLOAD_IDENTITY', workloadIdentityProvider: 'GCP' });
      // A PUT/GET asks the stage's client from RemoteStorageUtil by the stage's location type.
      for (const locationType of ['AZURE', 'GCS']) {
        try { new RemoteStorageUtil({}).createClient({ locationType }); out[locationType] = 'created'; }
        catch (err) { out[locationType] = err.message; }
      }
      // The AWS SDK's browser user-agent provider: in Node it never parses (no window), so it works.
      const provider = createUserAgentStringParsingProvider({ serviceId: 'S3', clientVersion: '1' });
      out.userAgentInNode = (await provider({})).map((s) => s[0]).join(' ');
      globalThis.window = { navigator: { userAgent: 'Mozilla/5.0' } };
      out.userAgentInBrowser = await provider({}).then(() => 'parsed', (err) => err.message);
      console.log(JSON.stringify(out));
      `,
    );
    const sdk = 'snowflake-sdk/dist/lib/';
    expect(JSON.parse(stdout)).toEqual({
      OAUTH_AUTHORIZATION_CODE: messageOf(`${sdk}authentication/auth_oauth_authorization_code.js`),
      OAUTH_CLIENT_CREDENTIALS: messageOf(`${sdk}authentication/auth_oauth_client_credentials.js`),
      EXTERNALBROWSER: messageOf(`${sdk}authentication/auth_web.js`),
      WORKLOAD_IDENTITY_AZURE: messageOf(`${sdk}authentication/auth_workload_identity/attestation_azure.js`),
      WORKLOAD_IDENTITY_GCP: messageOf(`${sdk}authentication/auth_workload_identity/attestation_gcp.js`),
      AZURE: messageOf(`${sdk}file_transfer_agent/azure_util.js`),
      GCS: messageOf(`${sdk}file_transfer_agent/gcs_util.js`),
      userAgentInNode: 'aws-sdk-js ua os/other lang/js md/browser api/S3',
      userAgentInBrowser: messageOf('bowser'),
    });
    for (const s of STUBS) {
      expect(s.message).toMatch(
        /^[^.]+ is not bundled in s3-access-logs' Lambda; .+ \(see build-stubs\.mjs to bundle it back\)\.$/,
      );
    }
  });

  it(`the bundled time-zone table gives every zone the full table's offsets from ${TZ_YEARS[0]} to ${TZ_YEARS[1]}`, async () => {
    // The range covers every instant the product stores (S3 access logs exist since 2006) with decades to spare.
    expect(TZ_YEARS[0]).toBeLessThanOrEqual(2006);
    expect(TZ_YEARS[1]).toBeGreaterThanOrEqual(new Date().getUTCFullYear() + 50);
    const full = requireFromRoot('moment-timezone');
    const from = Date.UTC(TZ_YEARS[0], 0, 1);
    const to = Date.UTC(TZ_YEARS[1] + 1, 0, 1) - 1;
    // Every instant at which a zone's offset changes in that range, and the millisecond before it,
    // plus the range's ends and each January and July 1st.
    const yearly = [];
    for (let y = TZ_YEARS[0]; y <= TZ_YEARS[1]; y++) yearly.push(Date.UTC(y, 0, 1), Date.UTC(y, 6, 1));
    const instants: Record<string, number[]> = {};
    const expected: Record<string, number[]> = {};
    for (const name of full.tz.names() as string[]) {
      const untils = (full.tz.zone(name).untils as number[]).filter((t) => t >= from && t <= to);
      instants[name] = [from, to, ...yearly, ...untils.flatMap((t) => [t - 1, t])];
      expected[name] = instants[name].map((t) => full.tz(t, name).utcOffset());
    }
    const file = path.join(work, 'instants.json');
    writeFileSync(file, JSON.stringify(instants));
    const stdout = await probe(
      'time-zones',
      `
      import { readFileSync } from 'node:fs';
      import moment from 'moment-timezone';
      const instants = JSON.parse(readFileSync(process.argv[2], 'utf8'));
      const names = moment.tz.names();
      const offsets = {};
      for (const name of Object.keys(instants)) {
        offsets[name] = names.includes(name) ? instants[name].map((t) => moment.tz(t, name).utcOffset()) : 'missing';
      }
      console.log(JSON.stringify({ names, offsets }));
      `,
      [file],
    );
    const bundled = JSON.parse(stdout);
    expect(bundled.names.sort()).toEqual([...full.tz.names()].sort());
    const wrong = Object.keys(expected).filter(
      (n) => JSON.stringify(bundled.offsets[n]) !== JSON.stringify(expected[n]),
    );
    expect(wrong, 'zones whose offsets differ from the full table').toEqual([]);
  });
});
