export { generateSample } from './generate.ts';
export type { SampleObject, SampleOptions } from './generate.ts';
