// What build.mjs leaves out of the Lambda bundles, and why each omission is safe.
//
// snowflake-sdk requires, at load time, the clients for every stage cloud and every login method it
// supports, so a bundle of it carries the Azure and Google Cloud SDKs, MSAL and an OAuth library
// (about 1.1 MB of the ingest bundle's 3.8 MB). The Lambdas use none of it: they log in with a password or a
// key pair (shared/snowflake/connection.ts) and load through array-bound INSERTs or Snowpipe over files
// they write to S3 with the AWS SDK, never through PUT/GET (docs/bundle-size.md). Each module below
// is one that snowflake-sdk reaches only on such a path (read in node_modules/snowflake-sdk/dist/lib,
// version in package-lock.json): it is replaced by a stub with the same exports that fails with a
// clear error if that path is ever taken, instead of shipping its dependencies.
//
// moment-timezone's time-zone table (727 KB) covers the years up to 2499; snowflake-sdk only uses it
// to render TIMESTAMP_LTZ values in the session's TIMEZONE (the Lambdas read none). The bundle keeps
// every zone with its exact rules for 1970–2100 instead.
import { createRequire } from 'node:module';
import path from 'node:path';

/** Where snowflake-sdk's stubbed modules live, relative to node_modules. */
const SDK_LIB = 'snowflake-sdk/dist/lib/';

const notBundled = (feature, instead) =>
  `${feature} is not bundled in s3-access-logs' Lambda; ${instead} (see build-stubs.mjs to bundle it back).`;
// snowflake-sdk also PUTs to a temporary stage by itself when one statement binds more values than
// CLIENT_STAGE_ARRAY_BINDING_THRESHOLD (stage binding), on an account hosted on Azure or Google Cloud too.
const STAGE =
  'the Lambda loads with INSERTs, binding fewer values per statement than CLIENT_STAGE_ARRAY_BINDING_THRESHOLD ' +
  '(lower INSERT_CHUNK_ROWS if stage binding brought you here), or with Snowpipe over files it writes to S3';
const LOGIN = "log in with a password or a key pair (SNOWFLAKE_JWT) in the Lambda's Snowflake secret";

/** A class whose construction fails: what snowflake-sdk does with a stage client or authenticator first. */
const throwingClass = (name, message) =>
  `class ${name} { constructor() { throw new Error(${JSON.stringify(message)}); } }`;
/**
 * An authenticator class that can be built (snowflake-sdk constructs it where a thrown error would
 * lose its message) but whose login fails with the message, reaching connect()'s callback.
 */
const failingAuthenticator = (name, message) =>
  `class ${name} {
    async authenticate() { throw new Error(${JSON.stringify(message)}); }
    async reauthenticate() { throw new Error(${JSON.stringify(message)}); }
    updateBody() { throw new Error(${JSON.stringify(message)}); }
  }`;

/**
 * Each stub: the snowflake-sdk module it replaces, the packages that leave the bundle with it, the
 * error it raises, and its CommonJS source (same export names as the module it replaces).
 */
export const STUBS = [
  {
    module: `${SDK_LIB}file_transfer_agent/azure_util.js`,
    requiredBy: 'snowflake-sdk',
    drops: ['@azure/storage-blob'],
    message: notBundled('PUT/GET on an Azure stage', STAGE),
    source: (m) => `${throwingClass('AzureUtil', m)}\nmodule.exports = AzureUtil;`,
  },
  {
    module: `${SDK_LIB}file_transfer_agent/gcs_util.js`,
    requiredBy: 'snowflake-sdk',
    drops: [],
    message: notBundled('PUT/GET on a Google Cloud Storage stage', STAGE),
    source: (m) => `${throwingClass('GCSUtil', m)}\nmodule.exports = GCSUtil;`,
  },
  {
    module: `${SDK_LIB}authentication/auth_workload_identity/attestation_azure.js`,
    requiredBy: 'snowflake-sdk',
    drops: ['@azure/identity', '@azure/msal-node'],
    message: notBundled('Workload identity login on Azure', LOGIN),
    source: (m) =>
      `exports.DEFAULT_AZURE_ENTRA_ID_RESOURCE = 'api://fd3f753b-eed3-462c-b6a7-a4b5bb650aad';
      exports.getAzureAttestationToken = async () => { throw new Error(${JSON.stringify(m)}); };`,
  },
  {
    module: `${SDK_LIB}authentication/auth_workload_identity/attestation_gcp.js`,
    requiredBy: 'snowflake-sdk',
    drops: ['google-auth-library', 'gaxios', 'node-fetch'],
    message: notBundled('Workload identity login on Google Cloud', LOGIN),
    source: (m) =>
      `exports.SNOWFLAKE_AUDIENCE = 'snowflakecomputing.com';
      exports.getGcpAttestationToken = async () => { throw new Error(${JSON.stringify(m)}); };`,
  },
  {
    module: `${SDK_LIB}authentication/auth_oauth_authorization_code.js`,
    requiredBy: 'snowflake-sdk',
    drops: ['oauth4webapi'],
    message: notBundled('The OAUTH_AUTHORIZATION_CODE authenticator', LOGIN),
    // sf.js tests `auth instanceof AuthOauthAuthorizationCode`, so this stays a class.
    source: (m) =>
      `${failingAuthenticator('AuthOauthAuthorizationCode', m)}\nmodule.exports = AuthOauthAuthorizationCode;`,
  },
  {
    module: `${SDK_LIB}authentication/auth_oauth_client_credentials.js`,
    requiredBy: 'snowflake-sdk',
    drops: [],
    message: notBundled('The OAUTH_CLIENT_CREDENTIALS authenticator', LOGIN),
    source: (m) =>
      `${failingAuthenticator('AuthOauthClientCredentials', m)}
      Object.defineProperty(exports, '__esModule', { value: true });
      exports.default = AuthOauthClientCredentials;`,
  },
  {
    module: `${SDK_LIB}authentication/auth_web.js`,
    requiredBy: 'snowflake-sdk',
    drops: ['open'],
    message: notBundled('The EXTERNALBROWSER authenticator', LOGIN),
    source: (m) => `${failingAuthenticator('AuthWeb', m)}\nmodule.exports = AuthWeb;`,
  },
  {
    // The AWS SDK's browser user-agent parser: @aws-sdk/core exports it next to the Node one, and
    // esbuild keeps its dynamic import("bowser") although no Node client calls it. In all three bundles.
    module: 'bowser',
    requiredBy: '@aws-sdk/core',
    drops: ['bowser'],
    message: notBundled(
      "Parsing a browser's user agent (bowser)",
      'the Lambda runs in Node, where the AWS SDK never does',
    ),
    source: (m) =>
      `const parse = () => { throw new Error(${JSON.stringify(m)}); };
      module.exports = { parse, default: { parse } };`,
  },
];

/** The years for which the bundled time-zone table is exact (instants outside get the edge year's rules). */
export const TZ_YEARS = [1970, 2100];

/**
 * moment-timezone's packed table, filtered to TZ_YEARS; every zone and link name is kept. `dir` is
 * the directory of the moment-timezone the bundle uses (its data and its filter go together).
 */
export function timeZoneData(dir) {
  const fromPackage = createRequire(path.join(dir, 'package.json'));
  const moment = fromPackage('./moment-timezone-utils.js');
  const full = fromPackage('./data/packed/latest.json');
  const filtered = moment.tz.filterLinkPack(
    { version: full.version, zones: full.zones.map((z) => moment.tz.unpack(z)), links: full.links },
    ...TZ_YEARS,
  );
  // filterLinkPack can link a name to a name that is itself a link (GMT → Etc/GMT-0 → Africa/Abidjan),
  // which moment-timezone does not follow: point every link at its zone.
  const linkedTo = new Map(filtered.links.map((l) => l.split('|').reverse()));
  const zoneOf = (name) => (linkedTo.has(name) ? zoneOf(linkedTo.get(name)) : name);
  const links = filtered.links.map((l) => `${zoneOf(l.split('|')[0])}|${l.split('|')[1]}`).sort();
  return { ...filtered, links, countries: full.countries };
}

const TZ_NAMESPACE = 's3al-tz';
const STUB_NAMESPACE = 's3al-stub';

/**
 * The esbuild plugin. A stub's module shows in the metafile as `s3al-stub:<module>`, the time-zone
 * table as `s3al-tz:moment-timezone`. The build fails if a stubbed module is no longer required the
 * way it was (a new snowflake-sdk version): the stubs must then be re-checked against its source.
 * (That check reads the metafile: build with `metafile: true`, as build.mjs does.)
 */
export function lambdaStubs(stubs = STUBS) {
  const byModule = new Map(stubs.map((s) => [s.module, s]));
  const names = stubs.map((s) => path.basename(s.module, '.js')).join('|');
  return {
    name: 's3al-lambda-stubs',
    setup(build) {
      const used = new Set();
      build.onStart(() => used.clear());
      // A stub replaces a module when the import resolves to it from the package named in `requiredBy`.
      build.onResolve({ filter: new RegExp(`(^|/)(${names})(\\.js)?$`) }, (args) => {
        const importer = args.importer.split(path.sep).join('/');
        const at = importer.lastIndexOf('/node_modules/');
        if (at < 0) return undefined;
        const nodeModules = importer.slice(0, at + '/node_modules/'.length);
        const module = args.path.startsWith('.')
          ? path.posix.relative(nodeModules, path.posix.resolve(path.posix.dirname(importer), args.path))
          : args.path;
        const stub = byModule.get(module) ?? byModule.get(`${module}.js`);
        if (!stub || !importer.slice(nodeModules.length).startsWith(`${stub.requiredBy}/`)) return undefined;
        used.add(stub.module);
        return { path: stub.module, namespace: STUB_NAMESPACE };
      });
      build.onLoad({ filter: /.*/, namespace: STUB_NAMESPACE }, (args) => {
        const stub = byModule.get(args.path);
        return { contents: `'use strict';\n${stub.source(stub.message)}\n`, loader: 'js' };
      });

      build.onResolve({ filter: /^moment-timezone$/ }, async (args) => {
        const real = await build.resolve('moment-timezone/moment-timezone.js', {
          kind: args.kind,
          resolveDir: args.resolveDir,
        });
        if (real.errors.length) return { errors: real.errors };
        return { path: 'moment-timezone', namespace: TZ_NAMESPACE, pluginData: real.path };
      });
      build.onLoad({ filter: /.*/, namespace: TZ_NAMESPACE }, (args) => ({
        // moment-timezone's index.js, with the filtered table in place of data/packed/latest.json.
        contents:
          `const moment = module.exports = require('./${path.basename(args.pluginData)}');\n` +
          `moment.tz.load(${JSON.stringify(timeZoneData(path.dirname(args.pluginData)))});\n`,
        resolveDir: path.dirname(args.pluginData),
        loader: 'js',
      }));

      build.onEnd((result) => {
        if (result.errors.length || !build.initialOptions.entryPoints) return;
        const entries = JSON.stringify(build.initialOptions.entryPoints);
        // A stub must be hit in every bundle that contains the package that required its module.
        const inputs = Object.keys(result.metafile?.inputs ?? {});
        const missing = stubs
          .filter((s) => !used.has(s.module) && inputs.some((i) => i.includes(`node_modules/${s.requiredBy}/`)))
          .map((s) => `${s.module} (from ${s.requiredBy})`);
        if (!missing.length) return undefined;
        return {
          errors: [
            {
              text:
                `build-stubs.mjs: ${missing.join(', ')} is no longer required as it was (bundling ${entries}); ` +
                "re-check each stub against that package's source and update STUBS.",
            },
          ],
        };
      });
    },
  };
}
