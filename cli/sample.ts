/**
 * `s3-access-logs sample DIR`: writes the deterministic sample `npm start` loads, as files, in the
 * chosen formats: the text objects S3 writes to a bucket, and the same requests as CloudWatch Logs
 * vended delivery writes them (gzip NDJSON, Parquet). `npm start -- --logs DIR` then loads the mix.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { generateSample } from '../local/sample/index.ts';
import { SAMPLE_FORMATS, type SampleFormat } from '../local/sample/formats.ts';
import { CliError } from './errors.ts';

export async function writeSample(
  dir: string,
  opts: { formats: SampleFormat[]; seed: string; days: number },
): Promise<{ files: number; rows: number }> {
  // The writers load the Parquet library: only when the command runs, not when it registers.
  const { sampleObjects } = await import('../local/sample/vended.ts');
  const sample = generateSample({ seed: opts.seed, days: opts.days, prefix: '' });
  let files = 0;
  for (const format of opts.formats) {
    for (const o of sampleObjects(sample, format, '')) {
      const file = path.join(dir, format, o.key);
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, o.body);
      } catch (err) {
        throw new CliError(
          `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}. Pass a directory you can write to.`,
          1,
        );
      }
      files++;
    }
  }
  return { files, rows: sample.truth.rows * opts.formats.length };
}

export function register(program: Command): void {
  program
    .command('sample')
    .description(
      'Write the generated sample logs to DIR/<format>/ as text, vended JSON (gzip NDJSON) and/or Parquet, for `npm start -- --logs DIR`',
    )
    .argument('<dir>', 'directory to write into (created if missing)')
    .addOption(new Option('--formats <list>', 'comma-separated: text, json, parquet').default(SAMPLE_FORMATS.join(',')))
    .option('--seed <seed>', 'seed of the generated sample', '20261116')
    .option('--days <n>', 'days of traffic', '3')
    .action(async (dir: string, opts: { formats: string; seed: string; days: string }) => {
      const formats = opts.formats.split(',').map((f) => f.trim());
      const bad = formats.find((f) => !(SAMPLE_FORMATS as readonly string[]).includes(f));
      if (bad !== undefined || formats.length === 0)
        throw new CliError(`--formats ${opts.formats}: "${bad ?? ''}" is not one of ${SAMPLE_FORMATS.join(', ')}.`, 2);
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 366)
        throw new CliError(`--days ${opts.days} is not a whole number of days from 1 to 366.`, 2);
      const { files, rows } = await writeSample(dir, { formats: formats as SampleFormat[], seed: opts.seed, days });
      process.stdout.write(
        `wrote ${files} objects (${rows} rows) to ${dir}; load them with: npm start -- --logs ${dir}\n`,
      );
    });
}
