/**
 * Powertools packages share `@aws-lambda-powertools/commons` (the user-agent middleware, the
 * environment helpers). Mixed versions would bundle two copies of it into each Lambda and let one
 * package's fix be missing from another: every Powertools package is pinned to one exact version,
 * and the lockfile resolves one commons.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/corpus.ts';

const read = (file: string) => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8'));

describe('Powertools', () => {
  it('is pinned to one exact version across its packages, with a single commons in the lockfile', () => {
    const pkg = read('package.json');
    const pinned = Object.entries<string>({ ...pkg.dependencies, ...pkg.devDependencies }).filter(([name]) =>
      name.startsWith('@aws-lambda-powertools/'),
    );
    expect(pinned.map(([name]) => name)).toEqual(
      expect.arrayContaining(['@aws-lambda-powertools/logger', '@aws-lambda-powertools/parser']),
    );
    const versions = new Set(pinned.map(([, version]) => version));
    expect([...versions]).toHaveLength(1);
    const [version] = versions;
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);

    const lock = read('package-lock.json');
    const installed = Object.entries<{ version: string }>(lock.packages).filter(([where]) =>
      /(^|\/)node_modules\/@aws-lambda-powertools\//.test(where),
    );
    expect(installed.filter(([where]) => where.endsWith('/commons')).map(([where]) => where)).toEqual([
      'node_modules/@aws-lambda-powertools/commons',
    ]);
    for (const [where, entry] of installed) expect(`${where}@${entry.version}`).toBe(`${where}@${version}`);
  });
});
