/**
 * The batch loader: rows + ledger claim, in one Snowflake transaction, the claim LAST.
 *
 * Exactly-once rests on one rule: an object's rows (and rejects, or staged lines) are only ever
 * committed by the transaction that claims the object in the ledger `s3_access_logs_loads`:
 *
 *   BEGIN
 *   [DELETE the forced objects' previous rows, rejects, staged lines]
 *   INSERT … (array binds, one round-trip per chunk) — every object's rows
 *   MERGE INTO s3_access_logs_loads … WHEN NOT MATCHED THEN INSERT (…, claimid = <fresh uuid>)
 *                                     [WHEN MATCHED AND force THEN UPDATE SET claimid = <uuid>, …]
 *   SELECT logbucket, logkey FROM s3_access_logs_loads WHERE claimid = <uuid>   -- what we won
 *   COMMIT if we won every object; otherwise ROLLBACK and load the ones we won again without the rest
 *
 * - All rows of an object appear together or not at all: they commit with the claim.
 * - At most once: a redelivery's MERGE matches the committed ledger row and wins nothing, so its
 *   transaction rolls back. A concurrent delivery's MERGE waits on the lock the first MERGE holds
 *   on the ledger until it commits, then matches the committed row and wins nothing; if the first
 *   rolls back, the second wins. Nothing commits for an object whose ledger row does not carry
 *   this transaction's claimid.
 * - The ledger lock is the only lock a normal load takes (INSERTs do not block each other in
 *   Snowflake), and it is held only from the MERGE to the COMMIT: three short statements, however
 *   large the object. A loader that dies while inserting holds no lock anyone else needs.
 * - A failure anywhere rolls the whole transaction back, claim included, so a retry starts clean.
 *
 * Objects are loaded either buffered — many small objects, rows already in memory, one transaction
 * for all (`loadBuffered`) — or streamed — one large object, chunk by chunk from the S3 stream,
 * one transaction for it (`loadStreamed`), so memory stays bounded by the chunk size.
 */
import { randomUUID } from 'node:crypto';
import { COLUMNS, type ParsedLine } from '../access-log/index.ts';
import type { LoadMode } from '../config.ts';
import type { Bind, Session } from './connection.ts';

export const TABLES = {
  rows: 's3_access_logs',
  rejects: 's3_access_logs_rejects',
  ledger: 's3_access_logs_loads',
  staging: 's3_access_logs_staging',
} as const;

const ROW_COLUMNS = [...COLUMNS, 'logbucket', 'logkey', 'logline', 'loadedat'] as const;
const REJECT_COLUMNS = ['logbucket', 'logkey', 'logline', 'reason', 'rawline', 'loadedat'] as const;
const STAGING_COLUMNS = ['logbucket', 'logkey', 'logline', 'raw', 'loadedat'] as const;

const insertSql = (table: string, columns: readonly string[]) =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;

const INSERT_ROWS = insertSql(TABLES.rows, ROW_COLUMNS);
const INSERT_REJECTS = insertSql(TABLES.rejects, REJECT_COLUMNS);
const INSERT_STAGING = insertSql(TABLES.staging, STAGING_COLUMNS);

/** Objects per ledger MERGE, per forced DELETE and per ledger look-up. */
const CLAIM_CHUNK = 500;

/** Identifies an object in the ledger. */
export interface LedgerKey {
  bucket: string;
  key: string;
}
export const ledgerId = (o: LedgerKey): string => `${o.bucket}\u0000${o.key}`;

export interface LoadTarget extends LedgerKey {
  etag?: string;
  sequencer?: string;
  force: boolean;
  replayId?: string;
}

export interface ObjectCounts {
  bytes: number;
  lines: number;
  rows: number;
  rejects: number;
  /** Newest requestdatetime among the object's rows (ISO), for the delivery-lag metric. */
  newestRequest?: string;
}

/**
 * Turns parsed lines into bind arrays for one object and counts them. In `parsed` mode a line
 * becomes a typed row or a reject; in `raw` mode every line becomes a staging row.
 */
export class RowBuilder {
  readonly counts: ObjectCounts = { bytes: 0, lines: 0, rows: 0, rejects: 0 };
  constructor(
    readonly target: LedgerKey,
    readonly mode: LoadMode,
    readonly loadedAt: string,
  ) {}

  /** Returns the row for its table and whether it is a reject. */
  add(line: ParsedLine): { bind: Bind[]; reject: boolean } {
    const { bucket, key } = this.target;
    this.counts.lines++;
    if (this.mode === 'raw') {
      this.counts.rows++;
      if (line.result.ok) this.noteTime(line.result.row.requestdatetime);
      return { bind: [bucket, key, line.line, line.raw, this.loadedAt], reject: false };
    }
    const r = line.result;
    if (!r.ok) {
      this.counts.rejects++;
      return { bind: [bucket, key, line.line, r.reason, line.raw, this.loadedAt], reject: true };
    }
    this.counts.rows++;
    this.noteTime(r.row.requestdatetime);
    const row = r.row as unknown as Record<string, Bind>;
    const bind: Bind[] = new Array(ROW_COLUMNS.length);
    for (let i = 0; i < COLUMNS.length; i++) bind[i] = row[COLUMNS[i]!] ?? null;
    bind[COLUMNS.length] = bucket;
    bind[COLUMNS.length + 1] = key;
    bind[COLUMNS.length + 2] = line.line;
    bind[COLUMNS.length + 3] = this.loadedAt;
    return { bind, reject: false };
  }

  private noteTime(t: string): void {
    // All instants are ISO UTC with the same shape, so string order is time order.
    if (this.counts.newestRequest === undefined || t > this.counts.newestRequest) this.counts.newestRequest = t;
  }
}

/** An object read completely into memory, waiting for its transaction. */
export interface BufferedObject {
  target: LoadTarget;
  counts: ObjectCounts;
  rows: Bind[][];
  rejects: Bind[][];
}

/**
 * `overwritten`: the ledger holds the key with another ETag — the key was re-uploaded with new
 * content after it loaded. Never acknowledged as a duplicate (its new lines would be lost unseen):
 * the caller fails the message loudly; a forced replay loads the new version.
 */
export type ClaimResult = 'loaded' | 'duplicate' | 'overwritten';

export interface LoaderOptions {
  mode: LoadMode;
  /** Rows per INSERT round-trip. */
  chunkRows: number;
  loadedAt: string;
}

/** Reads a column from a result row whatever case the server returned the name in. */
function col(row: Record<string, unknown>, name: string): unknown {
  return row[name.toUpperCase()] ?? row[name] ?? row[name.toLowerCase()];
}

const pairPredicate = (n: number) => Array.from({ length: n }, () => '(logbucket = ? AND logkey = ?)').join(' OR ');

interface Claimable {
  target: LoadTarget;
  counts: ObjectCounts;
}

/** What a ledger row means for a delivery that did not (or need not) claim it. */
export function verdict(target: LoadTarget, storedEtag: string | null | undefined): 'duplicate' | 'overwritten' {
  return target.etag && storedEtag && target.etag !== storedEtag ? 'overwritten' : 'duplicate';
}

/** The one-sentence error for an overwritten key: what happened, and what to do. */
export function overwrittenError(target: LoadTarget, storedEtag?: string | null): Error {
  return new Error(
    `s3://${target.bucket}/${target.key} was re-uploaded with new content (ETag ${target.etag ?? 'unknown'}` +
      `${storedEtag ? `, loaded: ${storedEtag}` : ''}) after an earlier version loaded; replay it with ` +
      '{"replay":{"force":true}} to replace the loaded rows with the new version.',
  );
}

export class Loader {
  constructor(
    readonly session: Session,
    readonly options: LoaderOptions,
  ) {}

  /**
   * The ledger rows these objects already have: ledger id → stored ETag (null when none was
   * recorded). Advisory only (outside any transaction): it saves reading objects that a
   * redelivery would not load anyway. The claim decides.
   */
  async alreadyLoaded(objects: LedgerKey[]): Promise<Map<string, string | null>> {
    const found = new Map<string, string | null>();
    for (let i = 0; i < objects.length; i += CLAIM_CHUNK) {
      const part = objects.slice(i, i + CLAIM_CHUNK);
      const rows = await this.session.query(
        `SELECT logbucket, logkey, etag FROM ${TABLES.ledger} WHERE ${pairPredicate(part.length)}`,
        part.flatMap((o) => [o.bucket, o.key]),
      );
      for (const r of rows) {
        const etag = col(r, 'etag');
        found.set(
          ledgerId({ bucket: String(col(r, 'logbucket')), key: String(col(r, 'logkey')) }),
          etag == null ? null : String(etag),
        );
      }
    }
    return found;
  }

  /**
   * Loads many buffered objects in one transaction. If another delivery holds some of them, that
   * transaction rolls back and the rest are loaded again without them (each retry drops at least
   * one object, so this ends). Returns, per ledger id, what happened.
   */
  async loadBuffered(objects: BufferedObject[]): Promise<Map<string, ClaimResult>> {
    const results = new Map<string, ClaimResult>();
    let todo = objects;
    while (todo.length > 0) {
      const lost = await this.claimLast(todo, async () => {
        const { main, rejects } = this.statements();
        await this.insertChunks(
          main,
          todo.map((o) => o.rows),
        );
        if (rejects)
          await this.insertChunks(
            rejects,
            todo.map((o) => o.rejects),
          );
      });
      const kept: BufferedObject[] = [];
      for (const o of todo) {
        const id = ledgerId(o.target);
        if (lost.has(id)) results.set(id, lost.get(id)!);
        else kept.push(o);
      }
      if (lost.size === 0) for (const o of kept) results.set(ledgerId(o.target), 'loaded');
      todo = lost.size === 0 ? [] : kept;
    }
    return results;
  }

  /**
   * Loads one object from its parsed-line stream in its own transaction, INSERTing each chunk as
   * it fills, so at most one chunk of rows (and one of rejects) is in memory. The claim comes
   * after the last chunk; if another delivery holds the object, everything rolls back.
   */
  async loadStreamed(
    target: LoadTarget,
    lines: AsyncIterable<ParsedLine>,
    bytes: () => number,
  ): Promise<{ result: ClaimResult; counts: ObjectCounts }> {
    const builder = new RowBuilder(target, this.options.mode, this.options.loadedAt);
    const lost = await this.claimLast([{ target, counts: builder.counts }], async () => {
      const { main, rejects } = this.statements();
      const n = this.options.chunkRows;
      let mainChunk: Bind[][] = [];
      let rejectChunk: Bind[][] = [];
      for await (const line of lines) {
        const { bind, reject } = builder.add(line);
        const chunk = reject ? rejectChunk : mainChunk;
        chunk.push(bind);
        if (chunk.length < n) continue;
        await this.session.query(reject ? rejects! : main, chunk);
        if (reject) rejectChunk = [];
        else mainChunk = [];
      }
      if (mainChunk.length > 0) await this.session.query(main, mainChunk);
      if (rejectChunk.length > 0) await this.session.query(rejects!, rejectChunk);
      builder.counts.bytes = bytes();
    });
    return { result: lost.get(ledgerId(target)) ?? 'loaded', counts: builder.counts };
  }

  /**
   * One transaction: forced deletes, `insert()`, then the claim. Commits when every object was
   * won and returns an empty map; otherwise rolls back and returns the objects it lost, each
   * classified against the ledger row that beat it.
   */
  private async claimLast(objects: Claimable[], insert: () => Promise<void>): Promise<Map<string, ClaimResult>> {
    let won = new Set<string>();
    await this.session.query('BEGIN');
    try {
      await this.deleteForced(objects.map((o) => o.target));
      await insert();
      won = await this.claim(objects);
      if (won.size === objects.length) {
        await this.session.query('COMMIT');
        return new Map();
      }
    } catch (err) {
      await this.rollback();
      throw err;
    }
    await this.rollback();
    if (this.session.broken)
      throw new Error('ROLLBACK of a lost claim failed; the session is dropped so its transaction ends');
    const lostTargets = objects.map((o) => o.target).filter((t) => !won.has(ledgerId(t)));
    const stored = await this.alreadyLoaded(lostTargets);
    const lost = new Map<string, ClaimResult>();
    for (const t of lostTargets) {
      const id = ledgerId(t);
      // Lost to a row that is not there any more: the ledger never deletes, so this is a bug; retry.
      if (!stored.has(id))
        throw new Error(
          `The claim for s3://${t.bucket}/${t.key} was lost but the ledger has no row for it; the message will be retried.`,
        );
      lost.set(id, verdict(t, stored.get(id)));
    }
    return lost;
  }

  private async rollback(): Promise<void> {
    // If even ROLLBACK fails, the session's transaction state is unknown (see Session.broken);
    // ending the session, which the caller then does, rolls it back.
    await this.session.query('ROLLBACK').catch(() => {
      this.session.broken = true;
    });
  }

  private statements(): { main: string; rejects?: string } {
    return this.options.mode === 'raw' ? { main: INSERT_STAGING } : { main: INSERT_ROWS, rejects: INSERT_REJECTS };
  }

  /**
   * The claim: one MERGE for all objects, then one SELECT of the ledger rows carrying our claimid.
   * Objects must be distinct (the caller dedupes), or the MERGE would insert a key twice.
   */
  private async claim(objects: Claimable[], claimId: string = randomUUID()): Promise<Set<string>> {
    if (objects.length === 0) return new Set();
    const { mode, loadedAt } = this.options;
    const select =
      'SELECT ? AS logbucket, ? AS logkey, ? AS etag, ? AS sequencer, ? AS bytes, ? AS linecount, ? AS rowcount, ' +
      '? AS rejectcount, ? AS loadedat, ? AS mode, ? AS claimid, ? AS replayid, ? AS forced';
    // At most CLAIM_CHUNK objects per MERGE keeps the statement text far below Snowflake's size
    // limit whatever the batch size; every part carries the same claimid, in the same transaction.
    for (let i = 0; i < objects.length; i += CLAIM_CHUNK) {
      const part = objects.slice(i, i + CLAIM_CHUNK);
      const binds: Bind[] = [];
      for (const { target: t, counts: c } of part) {
        binds.push(t.bucket, t.key, t.etag ?? null, t.sequencer ?? null, c.bytes, c.lines, c.rows, c.rejects);
        binds.push(loadedAt, mode, claimId, t.replayId ?? null, t.force);
      }
      await this.session.query(
        `MERGE INTO ${TABLES.ledger} t USING (${part.map(() => select).join(' UNION ALL ')}) s ` +
          'ON t.logbucket = s.logbucket AND t.logkey = s.logkey ' +
          'WHEN MATCHED AND s.forced THEN UPDATE SET etag = s.etag, sequencer = s.sequencer, bytes = s.bytes, ' +
          'linecount = s.linecount, rowcount = s.rowcount, rejectcount = s.rejectcount, loadedat = s.loadedat, ' +
          'mode = s.mode, claimid = s.claimid, replayid = s.replayid, loadcount = t.loadcount + 1 ' +
          'WHEN NOT MATCHED THEN INSERT (logbucket, logkey, etag, sequencer, bytes, linecount, rowcount, rejectcount, ' +
          'loadedat, mode, claimid, replayid, loadcount) VALUES (s.logbucket, s.logkey, s.etag, s.sequencer, s.bytes, ' +
          's.linecount, s.rowcount, s.rejectcount, s.loadedat, s.mode, s.claimid, s.replayid, 1)',
        binds,
      );
    }
    const rows = await this.session.query(`SELECT logbucket, logkey FROM ${TABLES.ledger} WHERE claimid = ?`, [
      claimId,
    ]);
    return new Set(rows.map((r) => ledgerId({ bucket: String(col(r, 'logbucket')), key: String(col(r, 'logkey')) })));
  }

  /** A forced replay replaces: remove what earlier loads of these objects wrote, in every table. */
  private async deleteForced(targets: LoadTarget[]): Promise<void> {
    const forced = targets.filter((t) => t.force);
    for (let i = 0; i < forced.length; i += CLAIM_CHUNK) {
      const part = forced.slice(i, i + CLAIM_CHUNK);
      const binds = part.flatMap((t) => [t.bucket, t.key]);
      for (const table of [TABLES.rows, TABLES.rejects, TABLES.staging])
        await this.session.query(`DELETE FROM ${table} WHERE ${pairPredicate(part.length)}`, binds);
    }
  }

  /** INSERTs rows from several objects in chunks of `chunkRows`: one round-trip per chunk. */
  private async insertChunks(sql: string, perObject: Bind[][][]): Promise<void> {
    const n = this.options.chunkRows;
    let chunk: Bind[][] = [];
    for (const rows of perObject) {
      for (const row of rows) {
        chunk.push(row);
        if (chunk.length >= n) {
          await this.session.query(sql, chunk);
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) await this.session.query(sql, chunk);
  }
}
