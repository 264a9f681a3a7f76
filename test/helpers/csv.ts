/**
 * Test helper: reads staged files back. `readRecords` is an independent reader of the staged-file
 * CSV dialect, written from its description, not from the writer's code.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';

export type CsvCell = string | number | boolean | null;

/**
 * An independent reader of the dialect (what Snowflake's CSV format with
 * FIELD_OPTIONALLY_ENCLOSED_BY='"', EMPTY_FIELD_AS_NULL=TRUE does): an empty unquoted field is
 * NULL, a quoted field is a string with "" meaning ", TRUE/FALSE booleans, anything else a number.
 */
export function readRecords(text: string): CsvCell[][] {
  const records: CsvCell[][] = [];
  let fields: CsvCell[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new Error('unterminated quote');
        s += text.slice(i, q);
        if (text[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(s);
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '\n') j++;
      const bare = text.slice(i, j);
      fields.push(bare === '' ? null : bare === 'TRUE' ? true : bare === 'FALSE' ? false : Number(bare));
      i = j;
    }
    if (text[i] === ',') i++;
    else if (text[i] === '\n') {
      records.push(fields);
      fields = [];
      i++;
    } else throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  return records;
}

/** A staged gzip CSV object's records. */
export async function readStagedFile(s3: S3Client, bucket: string, key: string): Promise<CsvCell[][]> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await r.Body!.transformToByteArray();
  return readRecords(gunzipSync(bytes).toString('utf8'));
}
