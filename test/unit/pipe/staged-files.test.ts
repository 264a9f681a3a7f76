import { describe, expect, it } from 'vitest';
import { COLUMNS, formatLine, parseLine } from '../../../shared/access-log/index.ts';
import {
  manifestRecord,
  RecordWriter,
  STAGED_COLUMNS,
  stagedId,
  stagedNames,
} from '../../../shared/snowflake/pipe/staged-files.ts';

describe('staged file names', () => {
  it('are sha256(bucket \\n key), 40 hex characters, the same on every delivery', () => {
    // Expected values from `printf 'my-logs\nlogs/…' | sha256sum`, not from the code under test.
    expect(stagedId('my-logs', 'logs/2026-11-30-01-02-03-ABCDEF')).toBe('4517ca986d20eb0dad8198b780d9ff298b0d580f');
    expect(stagedId('b', 'k')).toBe('1c2a35c609fdd46ae6cbd1e1246e357c70024992');
    expect(stagedId('b', 'k')).not.toBe(stagedId('b', 'k2'));
    // The separator keeps bucket and key apart: ("ab","c") is not ("a","bc").
    expect(stagedId('ab', 'c')).not.toBe(stagedId('a', 'bc'));
    expect(stagedId('b', 'x'.repeat(1024))).toMatch(/^[0-9a-f]{40}$/);
  });

  it('name rows and rejects in parsed mode, raw in raw mode, and the manifest, under the prefix', () => {
    const id = '1c2a35c609fdd46ae6cbd1e1246e357c70024992';
    expect(stagedNames('pipe/', 'b', 'k', 'parsed')).toEqual({
      id,
      data: [
        { kind: 'rows', key: `pipe/rows/${id}.csv.gz` },
        { kind: 'rejects', key: `pipe/rejects/${id}.csv.gz` },
      ],
      manifest: `pipe/manifests/${id}.csv.gz`,
    });
    expect(stagedNames('a/b/', 'b', 'k', 'raw')).toEqual({
      id,
      data: [{ kind: 'raw', key: `a/b/raw/${id}.csv.gz` }],
      manifest: `a/b/manifests/${id}.csv.gz`,
    });
  });
});

describe('the manifest', () => {
  it('is one record: bucket, key, etag, sequencer, bytes, counts, mode, replay id, parse ms', () => {
    expect(STAGED_COLUMNS.manifests).toHaveLength(11);
    expect(
      manifestRecord({
        bucket: 'my-logs',
        key: 'logs/a "quoted", key',
        etag: 'e1',
        sequencer: '0055AED6DCD90281E5',
        bytes: 5_000_000_000,
        lines: 10,
        rows: 8,
        rejects: 2,
        mode: 'parsed',
        replayId: 'r-1',
        parseMs: 12.6,
      }),
    ).toBe('"my-logs","logs/a ""quoted"", key","e1","0055AED6DCD90281E5",5000000000,10,8,2,"parsed","r-1",13\n');
    expect(
      manifestRecord({ bucket: 'b', key: 'k', bytes: 0, lines: 0, rows: 0, rejects: 0, mode: 'raw', parseMs: 0 }),
    ).toBe('"b","k",,,0,0,0,0,"raw",,0\n');
  });
});

describe('records of one object', () => {
  const row = {
    bucketowner: 'owner',
    bucket_name: 'b',
    requestdatetime: '2024-05-01T10:00:00Z',
    remoteip: '192.0.2.1',
    requester: null,
    requestid: 'R1',
    operation: 'REST.GET.OBJECT',
    key: 'a%2Cb',
    request_uri: 'GET /b/a%2Cb HTTP/1.1',
    httpstatus: 200,
    errorcode: null,
    bytessent: 9007199254740991,
    objectsize: 10,
    totaltime: 1,
    turnaroundtime: null,
    referrer: 'say "x"',
    useragent: 'ua, with comma',
    versionid: null,
    hostid: 'h',
    sigv: 'SigV4',
    ciphersuite: 'c',
    authtype: 'AuthHeader',
    endpoint: 'e',
    tlsversion: 'TLSv1.2',
    accesspointarn: null,
    aclrequired: false,
    sourceregion: null,
    extrafields: null,
  } as const;
  const w = new RecordWriter('my-logs', 'logs/k,1');

  it('a typed row: the 28 columns in table order, then logbucket, logkey, logline', () => {
    const raw = formatLine(row);
    const result = parseLine(raw);
    expect(result.ok).toBe(true);
    const text = w.row({ line: 7, raw, result } as Parameters<RecordWriter['row']>[0]);
    expect(STAGED_COLUMNS.rows).toEqual([...COLUMNS, 'logbucket', 'logkey', 'logline']);
    expect(text).toBe(
      '"owner","b","2024-05-01T10:00:00Z","192.0.2.1",,"R1","REST.GET.OBJECT","a%2Cb","GET /b/a%2Cb HTTP/1.1",200,,' +
        '9007199254740991,10,1,,"say ""x""","ua, with comma",,"h","SigV4","c","AuthHeader","e","TLSv1.2",,FALSE,,,' +
        '"my-logs","logs/k,1",7\n',
    );
  });

  it('a reject keeps its reason and the raw line; a raw line is kept verbatim', () => {
    const raw = 'not a "log" line,\twith tab';
    const result = parseLine(raw);
    expect(result.ok).toBe(false);
    const reason = (result as { reason: string }).reason;
    expect(w.reject({ line: 2, raw, result }, reason)).toBe(
      `"my-logs","logs/k,1",2,"${reason}","not a ""log"" line,\twith tab"\n`,
    );
    expect(w.raw({ line: 3, raw, result })).toBe('"my-logs","logs/k,1",3,"not a ""log"" line,\twith tab"\n');
  });
});
