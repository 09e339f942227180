/**
 * The node:http server under fastify, with the time and space limits a server facing the
 * internet needs. Node enforces the timeouts; this module sets them, caps connections (in all
 * and per client), and turns requests away in the envelope once the server is closing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ApiErrorCode } from '../typings/api';
import type { Config } from './config';
import { writeEnvelope } from './errors';
import { clientKey, proxyTrust } from './net';

/** What the app and its shutdown share: once `closing`, every new request gets 503. */
export interface Lifecycle {
  closing: boolean;
}

type Limits = Pick<Config, 'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections' | 'maxConnectionsPerClient' | 'trustProxy'>;

/** Refuses connections beyond `cap` from one client; each costs a map update on open and close, nothing per request. */
function capPerClient(server: Server, cap: number, counted: (peer: string) => boolean): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress;
    if (peer === undefined || !counted(peer)) return;
    const key = clientKey(peer);
    const count = (open.get(key) ?? 0) + 1;
    if (count > cap) {
      socket.destroy();
      return;
    }
    open.set(key, count);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
    });
  });
}

/**
 * How often node checks open requests against the timeouts (its default, 30 s, would let a
 * stalled client stay up to twice the request timeout).
 */
const checkingIntervalFor = (limits: Limits) => Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));

/** The open connections of each server made here, for a shutdown to reach the answers under way. */
const openConnections = new WeakMap<Server, Set<Socket>>();

/**
 * What is wrong with a request's framing that node lets through: its Host (HTTP/1.1 requires
 * exactly one; node's own check would answer without the envelope, and it keeps the first of
 * several) and a Content-Encoding the server does not decode (the body would be read as if plain).
 */
function refusal(request: IncomingMessage): [number, ApiErrorCode, string, Record<string, string>?] | null {
  const { host } = request.headers;
  if (host === undefined) {
    if (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1) return [400, 'BAD_REQUEST', 'HTTP/1.1 requires a Host header'];
  } else if (host.includes(',')) {
    // Duplicates arrive joined (joinDuplicateHeaders); a host name never holds a comma.
    return [400, 'BAD_REQUEST', 'a request must carry one Host header, not several'];
  }
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return [415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding is not supported: send the body uncompressed', { 'accept-encoding': 'identity' }];
  }
  return null;
}

/** A fastify `serverFactory`: the http.Server with every limit set. */
export function httpServerFactory(limits: Limits, lifecycle: Lifecycle) {
  return (handler: (request: IncomingMessage, response: ServerResponse) => void): Server => {
    const server = createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: checkingIntervalFor(limits),
        // Checked below, so that the answer is in the envelope.
        requireHostHeader: false,
        // A header sent twice arrives as one joined value instead of node keeping one of them silently.
        joinDuplicateHeaders: true,
      },
      (request, response) => {
        // Requests that arrive on an open connection after close() began: the load balancer
        // should send them elsewhere, and the connection closes after the answer.
        if (lifecycle.closing) {
          response.shouldKeepAlive = false;
          writeEnvelope(response, 503, 'INTERNAL', 'the server is shutting down, try again');
          return;
        }
        const refused = refusal(request);
        if (refused) {
          // The body, if any, is not read: the connection cannot be reused after it.
          response.shouldKeepAlive = false;
          writeEnvelope(response, ...refused);
          return;
        }
        handler(request, response);
      },
    );
    server.maxConnections = limits.maxConnections;
    // Per connection, not per request: an add and a delete.
    const open = new Set<Socket>();
    openConnections.set(server, open);
    server.on('connection', (socket: Socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    });
    if (limits.maxConnectionsPerClient > 0) {
      // A trusted proxy carries many clients on its connections: the cap is the proxy's job there.
      const trusted = proxyTrust(limits.trustProxy);
      capPerClient(server, limits.maxConnectionsPerClient, (peer) => !trusted(peer, 0));
    }
    return server;
  };
}

/**
 * The start of a shutdown. Answers still being worked on go out with `Connection: close` (their
 * connections would otherwise idle on as keep-alive and hold the shutdown up), and until the
 * server has closed, each connection is closed as soon as it is idle: close() closes those idle
 * at that moment; one still receiving a body it was already answered for, or finishing a
 * response, becomes idle later and would otherwise be kept for the whole keep-alive timeout.
 */
export function beginShutdown(server: Server, everyMs = 50): void {
  for (const socket of openConnections.get(server) ?? []) {
    // The answer the connection is busy with (node's own field; errors.ts reads it too).
    const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (response && !response.headersSent) response.shouldKeepAlive = false;
  }
  const timer = setInterval(() => server.closeIdleConnections(), everyMs);
  timer.unref();
  server.once('close', () => clearInterval(timer));
}
