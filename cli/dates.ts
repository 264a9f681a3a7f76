/**
 * Time flags (`--from/--to`, `--since/--until`): parsed with the backfill request's rules (a date
 * alone is the start of that UTC day for a start, the end of it for an end; an instant without
 * offset is UTC), and reported in the user's own words: the flag and the value as typed.
 */
import { BackfillRequestError, parseTime } from '../functions/backfill/request.ts';
import { CliError } from './errors.ts';

export interface TimeRange {
  start?: Date;
  end?: Date;
}

function parseFlag(flag: string, value: string, edge: 'start' | 'end'): Date {
  try {
    return parseTime(edge === 'start' ? 'from' : 'to', value);
  } catch (err) {
    if (!(err instanceof BackfillRequestError)) throw err;
    const why = /is not a calendar date/.test(err.message) ? 'is not a calendar date' : 'is not a date';
    throw new CliError(`${flag} "${value}" ${why}; use YYYY-MM-DD (a whole UTC day) or YYYY-MM-DDTHH:MM:SSZ.`, 2);
  }
}

/**
 * Both ends of a range, checked together: each parses, and the start comes before the end. The
 * messages name the flags the user passed, with the values as typed.
 */
export function parseRange(flags: { start: string; end: string }, values: { start?: string; end?: string }): TimeRange {
  const range: TimeRange = {};
  if (values.start !== undefined) range.start = parseFlag(flags.start, values.start, 'start');
  if (values.end !== undefined) range.end = parseFlag(flags.end, values.end, 'end');
  if (range.start && range.end && range.start.getTime() >= range.end.getTime()) {
    throw new CliError(
      `${flags.start} ${values.start} is not before ${flags.end} ${values.end}; swap them or widen the range.`,
      2,
    );
  }
  return range;
}
