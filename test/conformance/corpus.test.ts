/**
 * Conformance over every file of the third-party corpus (`../shared/corpus`, see SOURCES.md):
 * every line parses, except the lines SOURCES.md marks as truncated/invalid, which are rejects
 * with the expected reason. The hard lines SOURCES.md calls out are checked field by field, and
 * the Elastic expected output is compared field by field.
 */
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLine, readLogLines, type AccessLogRow } from '../../shared/access-log/index.ts';
import {
  ACCEPTED_ODDITIES,
  EXPECTED_REJECTS,
  corpusAvailable,
  corpusDir,
  corpusLines,
  corpusLogFiles,
  skipWithout,
} from '../helpers/corpus.ts';

const available = !skipWithout(corpusAvailable(), `the log corpus (${corpusDir})`);

function rowOf(file: string, line: number): AccessLogRow {
  const raw = corpusLines(file)[line - 1];
  if (raw === undefined) throw new Error(`${file} has no line ${line}`);
  const r = parseLine(raw);
  if (!r.ok) throw new Error(`${file}:${line} rejected: ${r.reason}`);
  return r.row;
}

describe.skipIf(!available)('corpus conformance', () => {
  const files = available ? corpusLogFiles() : [];

  it('covers every corpus file, each documented in SOURCES.md', () => {
    const sources = readFileSync(path.join(corpusDir, 'SOURCES.md'), 'utf8');
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const f of files) expect(sources, `${f} in SOURCES.md`).toContain(`\`${f}\``);
  });

  it.each(files)('%s: every line parses except the documented rejects', async (file) => {
    const expected = new Map(EXPECTED_REJECTS.filter((r) => r.file === file).map((r) => [r.line, r.reason]));
    const lines = corpusLines(file);
    const seen: number[] = [];
    for await (const p of readLogLines(createReadStream(path.join(corpusDir, file)))) {
      seen.push(p.line);
      expect(p.raw).toBe(lines[p.line - 1]!.replace(/\r$/, ''));
      const want = expected.get(p.line);
      if (want !== undefined) {
        expect(p.result, `${file}:${p.line}`).toEqual({ ok: false, reason: want });
      } else {
        expect(p.result.ok ? 'ok' : p.result.reason, `${file}:${p.line}`).toBe('ok');
      }
    }
    const nonBlank = lines.map((l, i) => (l.trim() === '' ? 0 : i + 1)).filter((n) => n > 0);
    expect(seen).toEqual(nonBlank);
  });

  it('has exactly the documented rejects across the corpus (1,240 lines: 1,238 rows + 2 rejects)', () => {
    let rows = 0;
    const rejects: string[] = [];
    for (const f of files) {
      corpusLines(f).forEach((l, i) => {
        const r = parseLine(l);
        if (r.ok) rows++;
        else rejects.push(`${f}:${i + 1}:${r.reason}`);
      });
    }
    expect(rejects).toEqual(EXPECTED_REJECTS.map((r) => `${r.file}:${r.line}:${r.reason}`).sort());
    expect(rows + rejects.length).toBe(1240);
  });

  describe('the hard lines of SOURCES.md', () => {
    it('raw quotes inside the Request-URI and Referer (dandi PHP probe)', () => {
      const r = rowOf('dandi-s3-log-parser.log', 9);
      expect(r.key).toBe('/');
      expect(r.request_uri).toMatch(
        /^GET \/\/\?s=index.*password%20=%20"xinba";.*explode\("\.","hello.*\?> HTTP\/1\.1$/,
      );
      expect(r.httpstatus).toBe(404);
      expect(r.errorcode).toBe('NoSuchKey');
      expect(r.referrer).toMatch(/^https:\/\/dandiarchive\.s3\.amazonaws\.com\/\/\?s=.*"xinba".*\?>$/);
      expect(r.useragent).toBe('Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)');
      expect(r.tlsversion).toBe('TLSv1.2');
      expect(r.aclrequired).toBe(false);
    });

    it('filename="…" inside a presigned Request-URI', () => {
      const r = rowOf('dandi-s3-log-extraction.log', 7);
      expect(r.request_uri).toContain('attachment;%20filename="dataset_description.json"&X-Amz-Algorithm');
      expect(r.request_uri?.endsWith(' HTTP/1.1')).toBe(true);
      expect(r.authtype).toBe('QueryString');
      expect(r.bytessent).toBe(1194552);
    });

    it('a raw quote right before HTTP/1.1 (cocoonlife issue)', () => {
      const r = rowOf('thirdparty-issues-and-docs.log', 1);
      expect(r.request_uri).toBe('GET /" HTTP/1.1');
      expect(r.key).toBe('%2522');
      expect(r.referrer).toBe('referer test');
      expect(r.httpstatus).toBe(403);
    });

    it('doubled quotes at the start or end of the User-Agent are kept verbatim', () => {
      expect(rowOf('dandi-s3-log-parser.log', 7).useragent).toMatch(
        /^"Mozilla\/5\.0 \(Windows NT 10\.0.*Safari\/537\.36$/,
      );
      expect(rowOf('dandi-s3-log-parser.log', 7).objectsize).toBe(422868123111);
      expect(rowOf('thirdparty-issues-and-docs.log', 2).useragent).toMatch(/Safari\/604\.1"$/);
      expect(rowOf('thirdparty-issues-and-docs.log', 2).hostid).toBe('someIDstring');
    });

    it('a double space between remote IP and requester is one separator', () => {
      for (const [file, line] of [
        ['dandi-s3-log-extraction.log', 10],
        ['dandi-dandi-s3-log-extraction.log', 11],
      ] as const) {
        const r = rowOf(file, line);
        expect(r.remoteip).toBe('192.0.2.0');
        expect(r.requester).toBe('arn:aws:iam::123:user/dandi-api-heroku');
        expect(r.requestid).toBe('SAV964NQBF0SD0RV');
        expect(r.operation).toBe('REST.GET.OBJECT');
        expect(r.objectsize).toBeGreaterThan(0);
      }
    });

    it('non-UTC offsets are applied', () => {
      expect(rowOf('lnav-s3_log-samples.log', 1).requestdatetime).toBe('2012-02-10T21:42:07Z');
      expect(rowOf('filebeat-s3access-test.log', 6).requestdatetime).toBe('2021-02-09T12:48:42Z');
      expect(rowOf('filebeat-s3access-test.log', 6).request_uri).toBe('OPTIONS * HTTP/1.0');
    });

    it('17 fields (lnav, no Version Id): trailing columns null', () => {
      const r = rowOf('lnav-s3_log-samples.log', 1);
      expect(r.operation).toBe('WEBSITE.GET.OBJECT');
      expect(r.useragent).toMatch(/Chrome\/17\.0\.963\.56 Safari\/535\.11$/);
      expect([r.versionid, r.hostid, r.aclrequired, r.sourceregion]).toEqual([null, null, null, null]);
    });

    it('the 27th field (source region), and fields after it', () => {
      expect(rowOf('aws-docs-logformat-current-source-region.log', 1)).toMatchObject({
        accesspointarn: 'arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP',
        aclrequired: true,
        sourceregion: 'us-east-1',
        extrafields: null,
      });
      expect(rowOf('atlantis-tutorials-2026.log', 1)).toMatchObject({
        tlsversion: 'TLSv1.3',
        aclrequired: false,
        sourceregion: null,
      });
      expect(rowOf('atlantis-tutorials-2026.log', 2)).toMatchObject({ sourceregion: 'us-east-2', aclrequired: false });
      expect(rowOf('otel-awslogsencoding-s3accesslog.log', 4)).toMatchObject({
        sourceregion: 'us-east-1',
        extrafields: 'ExtraUnknownField',
      });
    });

    it('aclRequired: Yes → true, - → false, absent → null; trailing space ignored', () => {
      expect(rowOf('aws-docs-logformat.log', 17).aclrequired).toBe(true);
      expect(rowOf('aws-docs-logformat.log', 18).aclrequired).toBe(false);
      expect(rowOf('aws-docs-logformat.log', 19).aclrequired).toBe(true); // ends with "Yes "
      expect(rowOf('aws-docs-logformat.log', 16).aclrequired).toBeNull();
    });

    it('lifecycle and batch lines with - almost everywhere', () => {
      expect(rowOf('elastic-integrations-s3access.log', 10)).toMatchObject({
        remoteip: null,
        requester: 'AmazonS3',
        operation: 'S3.EXPIRE.OBJECT',
        request_uri: null,
        httpstatus: null,
        objectsize: 317,
        referrer: null,
        useragent: null,
        versionid: 'qsEq9bDa2VyxyZ4cz0c7oBnF67VYTTij',
        aclrequired: false,
        sourceregion: null,
      });
      expect(rowOf('s3logaudit-bloom-2014.log', 2)).toMatchObject({
        operation: 'S3.TRANSITION.OBJECT',
        objectsize: 737028378,
        request_uri: null,
      });
      expect(rowOf('filebeat-s3access.log', 5)).toMatchObject({
        operation: 'BATCH.DELETE.OBJECT',
        request_uri: null,
        httpstatus: 204,
        objectsize: 344017,
        referrer: null,
        useragent: null,
      });
      expect(rowOf('kdgm-logstash-plugins-spec.log', 12)).toMatchObject({
        operation: 'REST.COPY.OBJECT_GET',
        request_uri: null,
        versionid: null,
      });
    });

    it('unknown trailing fields are kept by position (Panther test1 test2, kdgm "any other fields")', () => {
      // Panther appended two tokens to a 24-field line: they land in fields 25 and 26.
      expect(rowOf('panther-s3-server-access.log', 4)).toMatchObject({
        tlsversion: 'TLSV1.1',
        accesspointarn: 'test1',
        aclrequired: null,
      });
      // kdgm appended three tokens to an 18-field line: they land in fields 19..21.
      expect(rowOf('kdgm-logstash-plugins-spec.log', 18)).toMatchObject({
        versionid: null,
        hostid: 'any',
        sigv: 'other',
        ciphersuite: 'fields',
      });
    });

    it('key and Request-URI stay raw (double encoding preserved)', () => {
      const lines = corpusLines('rotemfogel-seekingalpha-2021.log');
      const i = lines.findIndex((l) => l.includes('date_%253D2021-03-14'));
      const r = rowOf('rotemfogel-seekingalpha-2021.log', i + 1);
      expect(r.key).toContain('date_%253D2021-03-14');
      expect(r.request_uri).toContain('date_%3D2021-03-14');
    });

    it.each(ACCEPTED_ODDITIES)('accepted on purpose: $file:$line', ({ file, line }) => {
      const r = rowOf(file, line);
      expect(r.referrer).toBe('http://kerkdienstgemist.nl/mp3/recorder.php?id=452"');
      expect(r.useragent).toBe('Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; WOW64; Trident/5.0)');
    });
  });

  it('matches the Elastic expected output field by field', () => {
    const doc = JSON.parse(
      readFileSync(path.join(corpusDir, 'elastic-integrations-s3access.expected-subset.json'), 'utf8'),
    ) as {
      expected: Array<{
        line: number;
        '@timestamp': string;
        aws: { s3access: Record<string, unknown> };
        event?: { duration?: number };
      }>;
    };
    const map: Record<string, keyof AccessLogRow> = {
      bucket_owner: 'bucketowner',
      bucket: 'bucket_name',
      remote_ip: 'remoteip',
      requester: 'requester',
      request_id: 'requestid',
      operation: 'operation',
      key: 'key',
      request_uri: 'request_uri',
      http_status: 'httpstatus',
      error_code: 'errorcode',
      bytes_sent: 'bytessent',
      object_size: 'objectsize',
      total_time: 'totaltime',
      turn_around_time: 'turnaroundtime',
      referrer: 'referrer',
      user_agent: 'useragent',
      version_id: 'versionid',
      host_id: 'hostid',
      signature_version: 'sigv',
      cipher_suite: 'ciphersuite',
      authentication_type: 'authtype',
      host_header: 'endpoint',
      tls_version: 'tlsversion',
    };
    expect(doc.expected).toHaveLength(7);
    let compared = 0;
    for (const e of doc.expected) {
      const r = rowOf('elastic-integrations-s3access.log', e.line);
      for (const k of Object.keys(e.aws.s3access)) expect(map, `unmapped Elastic field ${k}`).toHaveProperty(k);
      for (const [ek, col] of Object.entries(map)) {
        // Elastic drops a field whose raw value is `-`: absent there means null here.
        const want = e.aws.s3access[ek] ?? null;
        expect(r[col], `line ${e.line} ${ek} → ${col}`).toEqual(want);
        compared++;
      }
      expect(r.requestdatetime).toBe(e['@timestamp'].replace('.000Z', 'Z'));
      if (e.event?.duration !== undefined) expect((r.totaltime ?? 0) * 1e6).toBe(e.event.duration);
    }
    expect(compared).toBe(7 * 23);
  });
});
