/**
 * Test helper: a snowflake-local server on an ephemeral port and real snowflake-sdk connections
 * to it, with the product's SDK settings.
 *
 *   const sf = await startSnowflake();            // in-memory warehouse
 *   const conn = await sf.connect();              // default account/user/password, S3_ACCESS_LOGS.PUBLIC
 *   const rows = await exec(conn, 'SELECT ? AS X', [1]);
 *   await sf.stop();                              // destroys open connections, stops the server
 *
 * The helpers are snowflake-local's own (`snowflake-local/testing`); this module only applies the
 * product's SDK configuration first.
 */
import { configureSnowflakeSdk } from '../../shared/snowflake/connection.ts';

// Errors only, to the temp directory (not snowflake.log in the checkout): the project's settings.
configureSnowflakeSdk();

export { type Connection, connect, destroy, exec, startSnowflake, type TestSnowflake } from 'snowflake-local/testing';
