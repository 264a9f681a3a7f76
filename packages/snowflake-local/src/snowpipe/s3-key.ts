/**
 * The object key of an S3 event notification, decoded as Snowpipe reads it: S3 form-encodes keys
 * (space → `+`, `+` → `%2B`), so `+` becomes a space first, then percent-escapes are decoded.
 *
 * The product decodes the same notifications in shared/s3/events.ts; this package keeps its own
 * copy because it emulates Snowflake's side of the contract and imports nothing from the product.
 */
export function decodeS3Key(encoded: string): string {
  const spaced = encoded.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A malformed escape cannot come from S3; decode what can be decoded rather than lose the file.
    return spaced.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
}
