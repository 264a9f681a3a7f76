import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitSqlStatements, tableSqlFiles } from '../../../shared/snowflake/sql-files.ts';

describe('splitSqlStatements', () => {
  it('splits on semicolons outside strings, identifiers, comments and $$ bodies', () => {
    const text = [
      '-- header; with a semicolon',
      'CREATE TABLE a (x VARCHAR); /* block; comment */',
      "INSERT INTO a VALUES ('it''s; fine', 'back\\'slash;');",
      'CREATE TABLE "we;ird" (y INT)',
      ';',
      'CREATE FUNCTION f() RETURNS INT LANGUAGE PYTHON AS $$',
      'def f():',
      '    return 1;  # not the end',
      '$$;',
      '// trailing comment only',
    ].join('\n');
    expect(splitSqlStatements(text)).toEqual([
      'CREATE TABLE a (x VARCHAR)',
      "INSERT INTO a VALUES ('it''s; fine', 'back\\'slash;')",
      'CREATE TABLE "we;ird" (y INT)',
      'CREATE FUNCTION f() RETURNS INT LANGUAGE PYTHON AS $$\ndef f():\n    return 1;  # not the end\n$$',
    ]);
  });

  it('finds one CREATE TABLE per table file, in order, then the views over them', () => {
    const files = tableSqlFiles();
    expect(files.map((f) => f.split('/').pop())).toEqual([
      '01-s3_access_logs.sql',
      '02-s3_access_logs_rejects.sql',
      '03-s3_access_logs_loads.sql',
      '04-s3_access_logs_staging.sql',
      '08-s3_access_logs_enriched.sql',
      '09-s3_access_logs_watermark.sql',
    ]);
    for (const f of files) {
      const statements = splitSqlStatements(readFileSync(f, 'utf8'));
      if (/\/0[89]-/.test(f)) {
        // The views of the detections (docs/detections.md): they store nothing and can be replaced.
        for (const st of statements) expect(st).toMatch(/^CREATE OR REPLACE VIEW s3_\w+ AS/);
        continue;
      }
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/^CREATE TABLE IF NOT EXISTS s3_access_logs\w*/);
    }
  });
});
