export { generateSample } from './generate.ts';
export type { SampleObject, SampleOptions, SampleTruth } from './generate.ts';
