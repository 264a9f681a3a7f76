import { describe, expect, it } from 'vitest';
import { later, planBatch } from '../../../functions/ingest/plan.ts';
import { notificationBody } from '../../../local/harness/events.ts';
import type { ObjectCreated, ObjectRef } from '../../../shared/s3/events.ts';
import { ledgerId } from '../../../shared/snowflake/loader.ts';

const records = (bodies: string[]) => bodies.map((body, i) => ({ messageId: `m${i}`, body }));
const allowAll = () => true;
const older: ObjectCreated = { bucket: 'b', key: 'logs/k', size: 10, etag: 'old', sequencer: 'FF' };
const newer: ObjectCreated = { bucket: 'b', key: 'logs/k', size: 20, etag: 'new', sequencer: '100' };

describe('later', () => {
  const ref = (sequencer?: string): ObjectRef => ({
    bucket: 'b',
    key: 'k',
    force: false,
    ...(sequencer ? { sequencer } : {}),
  });

  it('compares sequencers as hex after left-padding, whichever comes first', () => {
    const [ff, x100] = [ref('FF'), ref('100')];
    expect(later(ff, x100)).toBe(x100);
    expect(later(x100, ff)).toBe(x100);
  });

  it('keeps the first on a tie or when either has no sequencer', () => {
    const [a, b] = [ref('0A'), ref('0A')];
    expect(later(a, b)).toBe(a);
    const none = ref();
    expect(later(none, ref('FF'))).toBe(none);
  });
});

describe('planBatch', () => {
  it('notes unreadable messages, test events and disallowed objects in record order, and plans only allowed objects', () => {
    const plan = planBatch(
      records([
        notificationBody([{ bucket: 'other', key: 'logs/x' }]),
        '{not json',
        JSON.stringify({ Event: 's3:TestEvent', Service: 'Amazon S3' }),
        notificationBody([{ bucket: 'b', key: 'logs/a', size: 7, etag: 'e1' }]),
      ]),
      (bucket) => bucket === 'b',
    );
    expect(plan.notes.map((n) => [n.kind, n.messageId])).toEqual([
      ['not-allowed', 'm0'],
      ['unreadable', 'm1'],
      ['test', 'm2'],
    ]);
    expect(plan.notes[1]).toMatchObject({ body: '{not json' });
    expect(plan.objects).toEqual([
      {
        id: ledgerId({ bucket: 'b', key: 'logs/a' }),
        target: { bucket: 'b', key: 'logs/a', etag: 'e1', force: false },
        size: 7,
        messageIds: ['m3'],
      },
    ]);
  });

  it('keeps at most 500 characters of an unreadable body', () => {
    const plan = planBatch(records([`{${'x'.repeat(1000)}`]), allowAll);
    expect(plan.notes[0]).toMatchObject({ kind: 'unreadable' });
    expect((plan.notes[0] as { body: string }).body).toHaveLength(500);
  });

  it.each([
    ['older first', [older, newer]],
    ['newer first', [newer, older]],
  ])('plans one object per key, with the newer event and both messages (%s)', (_name, order) => {
    const plan = planBatch(records(order.map((o) => notificationBody([o]))), allowAll);
    expect(plan.objects).toHaveLength(1);
    expect(plan.objects[0]).toMatchObject({
      target: { etag: 'new', sequencer: '100', force: false },
      size: 20,
      messageIds: ['m0', 'm1'],
    });
  });

  it.each([
    ['forced first', true],
    ['forced second', false],
  ])("keeps a replay's force when a plain event announces the same key (%s)", (_name, forcedFirst) => {
    const forced = notificationBody([newer], { force: true, id: 'bf-1' });
    const plain = notificationBody([newer]);
    const plan = planBatch(records(forcedFirst ? [forced, plain] : [plain, forced]), allowAll);
    expect(plan.objects).toHaveLength(1);
    expect(plan.objects[0]!.target.force).toBe(true);
  });

  it('lists a message once when it announces the same key twice', () => {
    const plan = planBatch(records([notificationBody([older, newer])]), allowAll);
    expect(plan.objects).toHaveLength(1);
    expect(plan.objects[0]).toMatchObject({ messageIds: ['m0'], target: { etag: 'new' } });
  });
});
