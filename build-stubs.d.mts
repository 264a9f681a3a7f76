// Types for build-stubs.mjs (plain JavaScript so that `node build.mjs` runs without a TypeScript loader).
import type { Plugin } from 'esbuild';

export interface Stub {
  /** The replaced module, relative to node_modules (a package name for a whole package). */
  module: string;
  /** The package whose require of `module` is replaced. */
  requiredBy: string;
  /** Packages that leave the bundle with it. */
  drops: string[];
  /** The error the stub raises when it is reached. */
  message: string;
  /** Its CommonJS source, given `message`. */
  source: (message: string) => string;
}
export const STUBS: Stub[];
export const TZ_YEARS: [number, number];
export function timeZoneData(dir: string): { version: string; zones: string[]; links: string[]; countries: string[] };
export function lambdaStubs(stubs?: Stub[]): Plugin;
