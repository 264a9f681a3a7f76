/**
 * The formats the sample can be written in (`s3-access-logs sample --formats`). Apart from their
 * writers (vended.ts), which load the Parquet library: the CLI needs the names to register the
 * command, and only the command's run needs the writers.
 */
export type SampleFormat = 'text' | 'json' | 'parquet';
export const SAMPLE_FORMATS: readonly SampleFormat[] = ['text', 'json', 'parquet'];
