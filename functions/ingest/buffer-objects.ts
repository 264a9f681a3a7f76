/**
 * Memory-budget admission, for sinks that load many objects at once (`insert`): planned objects →
 * those read fully into bind arrays within the batch's memory budget, and those left to stream.
 *
 * The budget (memory-budget.ts) is shared by every concurrent read and charged per parsed line by
 * its estimated heap cost, so the sum held never exceeds it. An object is streamed instead when
 * its stored size already exceeds what is left (it cannot fit: lines cost more heap than their
 * bytes), or when its next line does not fit (decoded gzip and short lines outgrow the stored
 * size); it then gives back what it took.
 */
import type { BufferedObject, RowBuilder } from '../../shared/snowflake/loader.ts';
import type { Bind } from '../../shared/snowflake/connection.ts';
import { eachConcurrently } from './concurrency.ts';
import { lineCost, type MemoryBudget } from './memory-budget.ts';
import type { BatchOutcomes } from './outcomes.ts';
import type { PlannedObject } from './plan.ts';
import type { LineSource, OpenedLines } from './read-object.ts';

/** S3 reads in flight at once while buffering a batch. */
export const READ_CONCURRENCY = 4;

export interface Buffered {
  object: PlannedObject;
  loaded: BufferedObject;
}

export interface Admission {
  /** Read completely, in the order their reads finished. */
  buffered: Buffered[];
  /** Too large for what was left of the budget: to stream, in the order that was found. */
  streamed: PlannedObject[];
}

export interface BufferDeps {
  source: LineSource;
  budget: MemoryBudget;
  /** A fresh row builder for one object (load mode and load time are the batch's). */
  rowBuilder: (object: PlannedObject) => RowBuilder;
  /** Objects that cannot be opened or read are recorded here (and are in neither list). */
  outcomes: BatchOutcomes;
  concurrency?: number;
}

/** Reads an opened object's lines into bind arrays while each fits the budget; `undefined` = it did not fit (given back). */
async function readWithin(
  p: PlannedObject,
  opened: Extract<OpenedLines, { kind: 'ok' }>,
  deps: BufferDeps,
  charged: { bytes: number },
): Promise<BufferedObject | undefined> {
  const { budget } = deps;
  const builder = deps.rowBuilder(p);
  const rows: Bind[][] = [];
  const rejects: Bind[][] = [];
  for await (const line of opened.lines) {
    const cost = lineCost(line.raw);
    if (!budget.take(cost)) {
      opened.destroy();
      budget.giveBack(charged.bytes);
      return undefined;
    }
    charged.bytes += cost;
    const { bind, reject } = builder.add(line);
    (reject ? rejects : rows).push(bind);
  }
  builder.counts.bytes = opened.bytes();
  return { target: p.target, counts: builder.counts, rows, rejects };
}

/** One object: buffered, to stream, or an outcome recorded (skipped, failed). */
async function bufferOne(p: PlannedObject, deps: BufferDeps): Promise<BufferedObject | 'stream' | undefined> {
  const { budget, outcomes } = deps;
  if (p.size !== undefined && p.size > budget.available) return 'stream';
  const charged = { bytes: 0 };
  try {
    const opened = await deps.source(p.target);
    if (opened.kind !== 'ok') return void outcomes.notOpened(p, opened);
    if (opened.contentLength !== undefined && opened.contentLength > budget.available) {
      opened.destroy();
      return 'stream';
    }
    return (await readWithin(p, opened, deps, charged)) ?? 'stream';
  } catch (err) {
    budget.giveBack(charged.bytes);
    outcomes.failed(p, err, 'Reading the object');
    return undefined;
  }
}

export async function bufferObjects(objects: readonly PlannedObject[], deps: BufferDeps): Promise<Admission> {
  const admission: Admission = { buffered: [], streamed: [] };
  await eachConcurrently(objects, deps.concurrency ?? READ_CONCURRENCY, async (p) => {
    const r = await bufferOne(p, deps);
    if (r === 'stream') admission.streamed.push(p);
    else if (r) admission.buffered.push({ object: p, loaded: r });
  });
  return admission;
}
