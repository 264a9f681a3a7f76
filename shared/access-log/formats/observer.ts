/** What the record readers report besides rows and rejects, for metrics and warnings. */
export interface RecordObserver {
  /** Called for every record whose schema_version_id this mapping was not written for (it is still loaded). */
  unknownSchemaVersion(version: string): void;
}

/** Counts unknown schema versions per version, for one object: a warning names them once. */
export class SchemaVersionTally implements RecordObserver {
  readonly counts = new Map<string, number>();
  unknownSchemaVersion(version: string): void {
    this.counts.set(version, (this.counts.get(version) ?? 0) + 1);
  }
  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }
}
