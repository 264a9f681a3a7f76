// The README's Deploy section is what a user follows from zero: its parameter table must match
// serverless.yml, and its example secret must be one the Lambda accepts, naming the objects that
// sql/00-setup.sql creates.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOADER_USER, SETUP_SQL_FILE } from '../../cli/setup-snowflake.ts';
import { parseSecret } from '../../shared/snowflake/credentials.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const deploy = readme.slice(
  readme.indexOf('\n## Deploy\n'),
  readme.indexOf('\n## ', readme.indexOf('\n## Deploy\n') + 5),
);
const serverlessYml = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');

/** A default read from a file the way osls does (`${file(./x.json):a.b}`), or the value as written. */
function resolveFile(value: string): string {
  const m = /^\$\{file\(\.\/([^)]+\.json)\):([\w.]+)\}$/.exec(value);
  if (!m) return value;
  // biome-ignore lint/suspicious/noExplicitAny: a walk through JSON by a dotted path.
  let v: any = JSON.parse(readFileSync(path.join(ROOT, m[1]!), 'utf8'));
  for (const k of m[2]!.split('.')) v = v[k];
  return String(v);
}

/** `params.default` of serverless.yml: name → default (required ones are commented out). */
function paramDefaults(): Map<string, string> {
  const block = /\nparams:\n {2}default:\n((?: {4}.*\n)+)/.exec(serverlessYml)![1]!;
  const out = new Map<string, string>();
  for (const line of block.split('\n')) {
    const m = /^ {4}(#\s*)?([A-Za-z]+):\s*(.*?)\s*(#.*)?$/.exec(line);
    if (m) out.set(m[2]!, m[1] ? 'required' : resolveFile(m[3]!).replace(/^'(.*)'$/, "'$1'"));
  }
  return out;
}

describe('README Deploy section', () => {
  it('documents every parameter of serverless.yml with its default, and no other', () => {
    expect(deploy.length).toBeGreaterThan(1000);
    const rows = new Map<string, string>();
    for (const m of deploy.matchAll(/^\| `([A-Za-z]+)` \| (.+?) \| .+ \|$/gm)) rows.set(m[1]!, m[2]!.replace(/`/g, ''));
    const params = paramDefaults();
    expect([...rows.keys()].sort()).toEqual([...params.keys()].sort());
    for (const [name, dflt] of params) {
      const documented = rows.get(name)!;
      expect(documented, name).toBe(dflt === "''" ? "''" : dflt);
    }
    // Every ${param:...} the configuration uses is declared.
    for (const m of serverlessYml.matchAll(/\$\{param:([A-Za-z]+)\}/g)) expect(params.has(m[1]!), m[1]).toBe(true);
  });

  it('shows a secret the Lambda accepts, naming the user, role, warehouse and database 00-setup.sql creates', () => {
    const json = /```json\n([\s\S]+?)\n```/.exec(deploy)![1]!;
    const creds = parseSecret('readme-example', json);
    expect(creds.username).toBe(LOADER_USER);
    const setup = readFileSync(SETUP_SQL_FILE, 'utf8');
    expect(setup).toContain(`CREATE USER IF NOT EXISTS ${creds.username}`);
    expect(setup).toContain(`CREATE ROLE IF NOT EXISTS ${creds.role}`);
    expect(setup).toContain(`CREATE WAREHOUSE IF NOT EXISTS ${creds.warehouse}`);
    expect(setup).toContain(`CREATE DATABASE IF NOT EXISTS ${creds.database}`);
    expect(setup).toContain(`${creds.database}.${creds.schema}`);
  });

  it('uses the commands and scripts that exist', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.package).toMatch(/node build\.mjs && sls package/);
    expect(pkg.scripts.deploy).toMatch(/node build\.mjs && sls deploy/);
    expect(pkg.scripts.build).toBe('node build.mjs');
    for (const m of deploy.matchAll(/npm run (\w+)/g)) expect(pkg.scripts[m[1]!], m[1]).toBeDefined();
    expect(deploy).toContain('setup-snowflake --setup --public-key rsa_key.pub');
    expect(deploy).toContain('setup-snowflake --secret');
  });
});
