/**
 * Backfill of CloudWatch Logs vended-delivery keys (JSON/Parquet objects under …/YYYY/MM/DD/HH/ or
 * Hive-style year=/month=/day=/hour= folders) beside text keys, against fauxqs with the real
 * clients: selection by the hour folder's time, and only the needed day prefixes listed.
 */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill, type BackfillSummary } from '../../../functions/backfill/core.ts';
import { startAwsLocal, type AwsLocal } from '../../../local/aws.ts';
import { parseMessageBody } from '../../../shared/s3/events.ts';
import {
  HOUR,
  budgetContext,
  collectingDeps,
  putAll,
  quietLogger,
  recordListCalls,
  setLedger,
  settings,
} from './fixtures.ts';

const BUCKET = 'log-bucket';
const PLAIN = 'logs/AWSLogs/111122223333/S3ServerAccessLogs/us-east-1/';
const HIVE = 'logs/vended/aws-account-id=111122223333/aws-region=eu-west-1/';
const pad = (n: number) => String(n).padStart(2, '0');

/** One object per 3 hours over 2026-10-30 .. 2026-11-05 in each vended style, and simple text keys. */
function keys(): Array<{ key: string; time: number }> {
  const out: Array<{ key: string; time: number }> = [];
  for (let t = Date.UTC(2026, 9, 30); t < Date.UTC(2026, 10, 6); t += 3 * HOUR) {
    const d = new Date(t);
    const [y, m, day, h] = [d.getUTCFullYear(), pad(d.getUTCMonth() + 1), pad(d.getUTCDate()), pad(d.getUTCHours())];
    out.push({ key: `${PLAIN}${y}/${m}/${day}/${h}/part-${t}.json.gz`, time: t });
    out.push({ key: `${HIVE}year=${y}/month=${m}/day=${day}/hour=${h}/part-${t}.parquet`, time: t });
    out.push({ key: `logs/${y}-${m}-${day}-${h}-10-00-0123456789ABCDEF`, time: t + 10 * 60_000 });
  }
  return out;
}

let aws: AwsLocal;
let listRecord: { prefixes: string[] };
beforeAll(async () => {
  aws = await startAwsLocal();
  await putAll(
    aws,
    BUCKET,
    keys().map((k) => ({ key: k.key })),
  );
  listRecord = recordListCalls(aws.s3);
}, 60_000);
afterAll(async () => {
  await aws?.stop();
});

describe('backfill with vended-delivery keys', () => {
  it('selects the objects whose hour overlaps the padded range, in both folder styles, listing only the needed days', async () => {
    const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: 'ingest-vended' }));
    const deps = collectingDeps({
      config: settings({ queueUrl: QueueUrl! }),
      s3: aws.s3,
      sqs: aws.sqs,
      ledger: setLedger(new Set()),
      logger: quietLogger,
    });
    listRecord.prefixes.length = 0;
    const summary = (await runBackfill(
      deps,
      { from: '2026-11-01T05:00:00Z', to: '2026-11-02T20:00:00Z' },
      budgetContext(),
    )) as BackfillSummary;

    // Padded window (1 h before, 6 h after): [04:00 Nov 1, 02:00 Nov 3). An hour folder overlaps it when H+1h > from and H < to.
    const from = Date.UTC(2026, 10, 1, 4);
    const to = Date.UTC(2026, 10, 3, 2);
    const expected = keys()
      .filter((k) =>
        k.key.startsWith('logs/2026') ? k.time >= from && k.time < to : k.time + HOUR > from && k.time < to,
      )
      .map((k) => k.key)
      .sort();
    const sent = (await aws.inspectQueue(QueueUrl!))!.messages.ready
      .map((m) => {
        const parsed = parseMessageBody(m.body);
        if (parsed.kind !== 'objects') throw new Error(m.body);
        return parsed.objects[0]!.key;
      })
      .sort();
    expect(sent).toEqual(expected);
    expect(sent.filter((k) => k.startsWith(PLAIN)).length).toBeGreaterThan(0);
    expect(sent.filter((k) => k.startsWith(HIVE)).length).toBe(sent.filter((k) => k.startsWith(PLAIN)).length);
    expect(summary).toMatchObject({
      selected: expected.length,
      enqueued: expected.length,
      partitionRoots: 2,
      done: true,
    });

    const days = ['01', '02', '03'];
    const dataPrefixes = [
      ...days.map((d) => `logs/2026-11-${d}-`),
      ...days.map((d) => `${PLAIN}2026/11/${d}/`),
      ...days.map((d) => `${HIVE}year=2026/month=11/day=${d}/`),
    ];
    const listed = [...listRecord.prefixes].filter((p) => dataPrefixes.includes(p));
    expect(listed.sort()).toEqual(dataPrefixes.sort());
    // Everything else was discovery: folders above the year folders, never a day outside the range.
    expect(listRecord.prefixes.filter((p) => /\/(20\d\d|year=20\d\d)\//.test(p) && !dataPrefixes.includes(p))).toEqual(
      [],
    );
  });
});
