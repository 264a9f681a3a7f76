/** Reading a request body and writing a JSON response, as snowflake-sdk sends and expects them. */
import type http from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { parseQueryBody } from '../request-body.ts';
import type { Body, ServerState } from './state.ts';

const gunzip = promisify(zlib.gunzip);

/** The JSON body, gunzipped when the SDK compressed it; `query`: a query-request, its array binds kept as raw JSON. */
export async function readBody(req: http.IncomingMessage, query = false): Promise<Body> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  let buf = Buffer.concat(chunks);
  if (!buf.length) return {};
  if (/gzip/i.test(String(req.headers['content-encoding'] ?? '')) || (buf[0] === 0x1f && buf[1] === 0x8b))
    buf = await gunzip(buf);
  const text = buf.toString('utf8');
  return (query ? parseQueryBody(text) : JSON.parse(text)) as Body;
}

/** Writes `body` (an object, or JSON text already serialized) with the status. */
export function send(res: http.ServerResponse, status: number, body: Body | string): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** What a route's handler gets. */
export interface RouteContext {
  req: http.IncomingMessage;
  url: URL;
  /** The capture groups of the route's path pattern. */
  params: string[];
  state: ServerState;
  /** Answers, unless a fault loses the response (the request's effects stay). */
  reply(status: number, body: Body | string): void;
  /** Answers as is: the protocol errors a lost response would not hide. */
  send(status: number, body: Body | string): void;
}
