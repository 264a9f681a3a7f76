/**
 * Stage 5's trigger, continue: when this invocation stops. It hands over to a new invocation when
 * its time runs low, and the backfill ends when `maxObjects` are selected.
 */
import type { Totals } from './continuation.ts';

/** The slice of the Lambda context the backfill uses. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

export class Budget {
  private progressed = false;

  constructor(
    private readonly ctx: InvocationContext,
    /** Hand over when less than this is left. */
    private readonly safetyMarginMs: number,
    private readonly totals: Totals,
    private readonly maxObjects?: number,
  ) {}

  /** Called after each LIST call: some progress was made. */
  progress(): void {
    this.progressed = true;
  }

  /** Only after some progress, so a continuation that starts short on time cannot loop forever. */
  outOfTime(): boolean {
    return this.progressed && this.ctx.getRemainingTimeInMillis() < this.safetyMarginMs;
  }

  /** How many more objects may be selected. */
  room(): number {
    return this.maxObjects === undefined ? Number.POSITIVE_INFINITY : this.maxObjects - this.totals.selected;
  }
}
