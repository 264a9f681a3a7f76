export { generateSample, s3LogTimestamp } from './generate.ts';
export type { PlantedIncident, Sample, SampleLine, SampleObject, SampleOptions, SampleTruth } from './generate.ts';
export type { PlantedFinding } from './story.ts';
