/**
 * Errors in Snowflake's shape: a six-digit `code`, a SQLSTATE and a message. They travel to the
 * client as `success:false` bodies, which snowflake-sdk turns into errors with the same code.
 */
export class SnowflakeError extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
    this.name = 'SnowflakeError';
  }
}

export const CODES = {
  unsupported: ['000002', '0A000'],
  syntax: ['001003', '42000'],
  objectMissing: ['002003', '42S02'],
  alreadyExists: ['002002', '42710'],
  invalidIdentifier: ['000904', '42000'],
  unknownFunction: ['002140', '42601'],
  bindMissing: ['002049', '42601'],
  numericNotRecognized: ['100038', '22018'],
  notNull: ['100072', '22000'],
  lockTimeout: ['000625', '57014'],
  statementCount: ['000008', '0A000'],
  internal: ['000603', 'XX000'],
  badLogin: ['390100', '08004'],
  jwtInvalid: ['390144', '08004'],
  sessionGone: ['390112', '08001'],
  tokenInvalid: ['390104', '08001'],
  queryMissing: ['000709', '02000'],
} as const satisfies Record<string, readonly [string, string]>;

export function sfError(kind: keyof typeof CODES, message: string): SnowflakeError {
  const [code, state] = CODES[kind];
  return new SnowflakeError(code, state, message);
}

export function unsupported(what: string, hint?: string): SnowflakeError {
  return sfError(
    'unsupported',
    `SQL compilation error:\n${what} is not supported by snowflake-local.${hint ? ` ${hint}` : ''}`,
  );
}

/** Maps a DuckDB error onto the Snowflake error a user would have seen for the same mistake. */
export function fromDuckDB(err: unknown): SnowflakeError {
  if (err instanceof SnowflakeError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const msg = raw.split('\n')[0] ?? raw;
  let m: RegExpMatchArray | null;
  if ((m = msg.match(/^Catalog Error: (?:Table|View|Table Function)? ?with name "?([^"!]+?)"? does not exist/i)))
    return sfError('objectMissing', `SQL compilation error:\nObject '${m[1]}' does not exist or not authorized.`);
  if ((m = msg.match(/^Catalog Error: (?:Schema|Catalog) with name "?([^"!]+?)"? does not exist/i)))
    return sfError('objectMissing', `SQL compilation error:\nSchema '${m[1]}' does not exist or not authorized.`);
  if ((m = msg.match(/^Catalog Error: Scalar Function with name "?([^"!]+?)"? does not exist/i)))
    return sfError('unknownFunction', `SQL compilation error:\nUnknown function ${m[1]!.toUpperCase()}`);
  if ((m = msg.match(/^Catalog Error: .*?"?([\w.]+)"? already exists/i)))
    return sfError('alreadyExists', `SQL compilation error:\nObject '${m[1]}' already exists.`);
  if ((m = msg.match(/^Binder Error: Referenced column "?([^"]+)"? not found/i)))
    return sfError('invalidIdentifier', `SQL compilation error:\ninvalid identifier '${m[1]}'`);
  if (
    /^Binder Error: .*(Values were not provided|parameter)/i.test(msg) ||
    /^Invalid Input Error: .*(prepared statement|parameter)/i.test(msg)
  )
    return sfError('bindMissing', `SQL compilation error:\nBind variable not set. (${msg})`);
  if (/^INTERRUPT Error/i.test(msg)) return new SnowflakeError('000604', '57014', 'SQL execution canceled');
  if (/^Parser Error/i.test(msg)) return sfError('syntax', `SQL compilation error:\n${msg}`);
  if (/^Binder Error/i.test(msg)) return sfError('syntax', `SQL compilation error:\n${msg}`);
  if (/^Conversion Error/i.test(msg)) return sfError('numericNotRecognized', msg);
  if (/^Constraint Error: NOT NULL/i.test(msg))
    return sfError('notNull', `NULL result in a non-nullable column (${msg})`);
  if (/^TransactionContext Error: .*[Cc]onflict/.test(msg))
    return sfError('lockTimeout', `Statement aborted by a concurrent transaction: ${msg}`);
  if (/^(Invalid Input|Out of Range) Error/i.test(msg)) return new SnowflakeError('100035', '22003', msg);
  return sfError('internal', `SQL execution error: ${msg}`);
}
