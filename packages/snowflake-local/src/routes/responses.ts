/** The response bodies snowflake-sdk parses: success envelopes, Snowflake errors, query results. */
import { SnowflakeError, fromDuckDB } from '../errors.ts';
import type { Session, StatementOutcome } from '../warehouse.ts';
import type { Body } from './state.ts';

/** `{ data, success: true }`, the envelope of every successful answer. */
export const success = (data: unknown): Body => ({ data, code: null, message: null, success: true });

/** A Snowflake error (a DuckDB one mapped to its Snowflake code) as the SDK expects it. */
export function errorBody(err: unknown, queryId: string | null = null): Body {
  const e = err instanceof SnowflakeError ? err : fromDuckDB(err);
  return {
    data: {
      internalError: false,
      errorCode: e.code,
      age: 0,
      sqlState: e.sqlState,
      queryId,
      line: -1,
      pos: -1,
      type: 'COMPILATION',
    },
    code: e.code,
    message: e.message,
    success: false,
    headers: null,
  };
}

/** HTTP 401's body: the SDK logs in again when it sees code 390104. */
export const invalidToken: Body = {
  data: null,
  code: '390104',
  message: 'Invalid session token. Log in again.',
  success: false,
  headers: null,
};

/** The session's current database, schema, warehouse and role, which every query response reports. */
export const sessionState = (s: Session) => ({
  finalDatabaseName: s.database,
  finalSchemaName: s.schema,
  finalWarehouseName: s.warehouse,
  finalRoleName: s.role,
});

/** One statement's result set (JSON rowset) with its type and the session state after it. */
export function resultBody(s: Session, o: StatementOutcome, numberOfBinds: number): Body {
  return success({
    parameters: s.parameterList(),
    rowtype: o.result.rowtype,
    rowset: o.result.rowset,
    total: o.result.rowset.length,
    returned: o.result.rowset.length,
    queryId: o.queryId,
    databaseProvider: null,
    ...sessionState(s),
    numberOfBinds,
    arrayBindSupported: false,
    statementTypeId: o.statementTypeId,
    version: 1,
    sendResultTime: Date.now(),
    queryResultFormat: 'json',
    queryContext: null,
  });
}
